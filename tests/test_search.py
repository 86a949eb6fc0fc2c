"""SearchService behaviour: ranking on a small FAQ, correction, highlighting, hostile input, popularity."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faqbot.index import SearchService
from test_index import make_faq


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    built = SearchService(make_faq(), tmp_path_factory.mktemp("index"))
    yield built
    built.close()


@pytest.mark.parametrize(
    "query, expected",
    [
        ("je peux payer en liquide le jour J ?", "paiement-sur-place"),
        ("rembourssé au bout de combien de jours", "delai-remboursement"),
        ("j'ai changé d'avis", "droit-retractation"),
        ("jai pa recu de mail de confirmation", "debit-sans-confirmation"),
        ("c koi le RII", "rii"),
        ("recu la 48 N", "lettre-48n"),
        ("payer par CB", "moyens-paiement"),
    ],
)
def test_colloquial_questions_find_their_entry_first(service, query, expected):
    outcome = service.search(query)
    assert outcome.hits, query
    assert outcome.hits[0].entry.id == expected


def test_or_grouping_finds_partial_matches(service):
    # "voiture" is in no entry: an AND query would return nothing.
    outcome = service.search("remboursement voiture")
    assert outcome.hits and outcome.hits[0].entry.id == "delai-remboursement"


def test_correction_is_reported(service):
    outcome = service.search("remboursment")
    assert outcome.corrected_query == "remboursement"
    assert outcome.query == "remboursment"
    assert outcome.hits[0].entry.id == "delai-remboursement"


def test_no_correction_reported_when_nothing_changed(service):
    outcome = service.search("remboursement")
    assert outcome.corrected_query is None


def test_snippets_highlight_query_words_and_escape_the_rest(service):
    outcome = service.search("remboursement carte bleue")
    hit = outcome.hits[0]
    assert "<mark>remboursement</mark>" in hit.snippet_html
    assert "<mark>carte bancaire</mark>" in hit.snippet_html  # through the synonym group
    escaped = service.search("script affiché").hits[0]
    assert escaped.entry.id == "balise"
    assert "<script" not in escaped.question_html and "&lt;<mark>script</mark>&gt;" in escaped.question_html
    assert "<b>" not in escaped.snippet_html


def test_scores_are_ordered(service):
    scores = [hit.score for hit in service.search("paiement carte").hits]
    assert scores == sorted(scores, reverse=True)


def test_limit_is_respected(service):
    assert len(service.search("stage", limit=2).hits) <= 2


def test_empty_query_gives_most_consulted_entries(service):
    outcome = service.search("", limit=3, popularity={"rii": 12, "lettre-48n": 30})
    assert [hit.entry.id for hit in outcome.hits] == ["lettre-48n", "rii", "moyens-paiement"]
    assert outcome.corrected_query is None
    # Without popularity data: the FAQ's own order.
    assert [h.entry.id for h in service.search("   ", limit=2).hits] == ["moyens-paiement", "paiement-sur-place"]


def test_only_stopwords_gives_no_result(service):
    outcome = service.search("le la les de")
    assert outcome.hits == []


def test_related_entries_exclude_the_entry(service):
    entry = make_faq().by_id["delai-remboursement"]
    related = service.related(entry)
    assert entry.id not in [e.id for e in related]
    assert related


HOSTILE = [
    '"', "'", "«", "AND OR NOT", "question:*", "title:(a OR b", "a~2 b^3", "[a TO z]", "\\", "*?", "%s%n",
    "😀🚗💳", "\x00\x01\x1f", "l'", "’’’", "-", "—", "48", "0" * 200, "a" * 5000, "é" * 10_000,
    "SELECT * FROM search_log; --", "<script>alert(1)</script>", "\u202e\u200b", "\ud7ff", "q=1&limit=2",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(service, query):
    outcome = service.search(query)
    assert isinstance(outcome.hits, list)


def test_ten_kilobytes_of_text(service):
    outcome = service.search("remboursement " * 800)
    assert outcome.hits[0].entry.id == "delai-remboursement"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_arbitrary_text_never_errors(service, text):
    outcome = service.search(text, limit=5)
    assert len(outcome.hits) <= 5
    for hit in outcome.hits:
        assert isinstance(hit.snippet_html, str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.lists(
        st.sampled_from(["remboursement", "carte", "l’", "d'", "pas", "48N", ":", "\"", "(", "*", "OR", "é", " "]),
        max_size=30,
    ).map("".join)
)
def test_query_syntax_fragments_never_error(service, text):
    service.search(text)
