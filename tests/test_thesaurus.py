"""The domain thesaurus (data/thesaurus.yaml): it validates, no form is claimed twice, every concept reaches the FAQ."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from faqbot.content import load_faq
from faqbot.content.thesaurus import (
    DEFAULT_PATH,
    REGISTERS,
    ThesaurusError,
    load_thesaurus,
    parse_thesaurus,
)
from faqbot.index import analysis

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def thesaurus():
    return load_thesaurus()


@pytest.fixture(scope="module")
def faq_terms() -> set[str]:
    """Every term the search analyzer puts in the index for the project's FAQ."""
    faq = load_faq(ROOT / "data" / "faq.yaml")
    terms: set[str] = set()
    for entry in faq.entries:
        text = "\n".join([entry.question, *entry.variants, *entry.tags, entry.answer_plain])
        terms.update(analysis.analyze(text, mode="index"))
    for category in faq.categories:
        terms.update(analysis.analyze(category.label, mode="index"))
    return terms


def test_the_file_validates_and_is_the_analyzers_vocabulary(thesaurus):
    assert DEFAULT_PATH == ROOT / "data" / "thesaurus.yaml"
    assert 150 <= len(thesaurus.concepts) <= 300
    assert analysis.THESAURUS.digest == thesaurus.digest
    for concept in thesaurus.concepts:
        assert set(concept.forms) <= set(REGISTERS)
        assert concept.all_forms or concept.idioms, concept.id


def test_no_two_concepts_claim_the_same_form(thesaurus):
    assert thesaurus.form_conflicts() == []
    # And once analysed by the search chain (stemmed, stopwords out), too.
    owner: dict[tuple[str, ...], str] = {}
    for concept in thesaurus.concepts:
        for form in concept.all_forms:
            terms = analysis._phrase_terms(form)
            assert owner.setdefault(terms, concept.id) == concept.id, (form, concept.id, owner[terms])


def test_every_form_analyses_to_its_concept(thesaurus):
    for concept in thesaurus.concepts:
        for form in concept.all_forms:
            assert analysis._phrase_terms(form), (concept.id, form)  # never only stopwords
            assert analysis.SYNONYM_PREFIX + concept.id in analysis.analyze(form, mode="index"), (concept.id, form)


def test_every_concept_is_known_to_the_index(thesaurus, faq_terms):
    """Each concept is found in the FAQ: a visitor's form of it leads somewhere."""
    missing = [c.id for c in thesaurus.concepts if analysis.SYNONYM_PREFIX + c.id not in faq_terms]
    assert missing == []


def test_every_sms_expansion_is_plain_words(thesaurus):
    """An expansion is written out in full: never empty, never itself SMS-speak (no chains to follow)."""
    for token, words in thesaurus.sms.items():
        parts = thesaurus.words(words)
        assert parts, token
        assert not any(part in thesaurus.sms and part != token for part in parts if len(part) > 2), (token, words)


@pytest.mark.parametrize(
    "text, concept",
    [
        ("slt g perdu mon carton rose", "permisconduire"),
        ("jsuis pa venu au stage", "absence"),
        ("je voudrais me faire rendre des points", "recuperation"),
        ("le juge m'a donné une ordonnance pénale", "justice"),
        ("recu un recommandé de la préfecture", "recommande"),
        ("j'ai le permis depuis moins de 3 ans", "probatoire"),
        ("Remboursé ?", "remboursement"),
        ("c'est quoi le RII", "definition"),
    ],
)
def test_concepts_in_reads_free_text(thesaurus, text, concept):
    assert concept in thesaurus.concepts_in(text)


def test_concepts_in_honours_negative_forms(thesaurus):
    assert "annulation" in thesaurus.concepts_in("je veux annuler mon stage")
    found = thesaurus.concepts_in("mon stage a été annulé par le centre")
    assert "annulationcentre" in found and "annulation" not in found


def test_a_combination_of_concepts_names_another(thesaurus):
    """A probationary licence and a registered letter: the 48N letter, though « 48N » is never said."""
    text = "jeune conducteur, j'attends toujours le recommandé"
    assert "lettre48n" in thesaurus.concepts_in(text)
    assert "~lettre48n" in analysis.analyze(text)
    far = "jeune conducteur. " + "Il fait beau et je roule tous les jours vers mon travail en ville. " * 3 + "Un recommandé."
    assert "~lettre48n" not in analysis.analyze(far)  # the parts must be close
    assert "lettre48n" not in thesaurus.concepts_in("j'attends un recommandé")


def test_sms_speak_is_expanded_the_same_way_for_everyone(thesaurus):
    assert thesaurus.normalise("jsuis pa venu") == "je suis pas venu"
    assert thesaurus.sms["kestion"] == "question"  # never « gestion »
    assert thesaurus.normalise("auj") == "aujourd hui"
    assert analysis.ABBREVIATIONS["nai"] == ("ne", "ai")


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "dictionnaire"),
        ({"concepts": {}}, "au moins un concept"),
        ({"concepts": {"Permis": {"legal": ["permis"]}}}, "identifiant invalide"),
        ({"concepts": {"a": {"legal": "permis"}}}, "liste de textes"),
        ({"concepts": {"a": {"colloquial": ["x"]}}}, "clé(s) inconnue(s)"),
        ({"concepts": {"a": {}}}, "aucune forme"),
        ({"concepts": {"a": {"legal": ["x"], "weight": 2}}}, "weight"),
        ({"concepts": {"a": {"legal": ["x"], "broader": ["b"]}}}, "concept inconnu"),
        ({"concepts": {"a": {"legal": ["carte bleue"]}, "b": {"everyday": ["Cartes bleues"]}}}, "Formes en double"),
        ({"sms": {"pk": ""}, "concepts": {"a": {"legal": ["x"]}}}, "non vide"),
        ({"concepts": {"a": {"legal": ["x"], "implied_by": [["b"]]}}}, "combinaisons"),
        ({"concepts": {"a": {"legal": ["x"], "implied_by": [["a", "c"]]}, "c": {"legal": ["y"]}}}, "concept inconnu"),
    ],
)
def test_invalid_files_are_refused_with_a_french_message(data, message):
    with pytest.raises(ThesaurusError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_thesaurus(data)


def test_unreadable_yaml_is_refused(tmp_path):
    path = tmp_path / "thesaurus.yaml"
    path.write_text("concepts: [unclosed", encoding="utf-8")
    with pytest.raises(ThesaurusError, match="YAML illisible"):
        load_thesaurus(path)


def test_file_holds_no_duplicate_keys():
    """YAML silently keeps the last of two equal keys: a concept written twice would lose forms."""

    class UniqueKeyLoader(yaml.SafeLoader):
        pass

    def construct_mapping(loader, node, deep=False):
        keys = [loader.construct_object(k, deep=deep) for k, _v in node.value]
        duplicates = {k for k in keys if keys.count(k) > 1}
        assert not duplicates, duplicates
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    yaml.load(DEFAULT_PATH.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)


def test_forms_found_wrong_on_the_triage_bench_stay_fixed():
    """« renvoyé » alone read « me la renvoyer » (resend) as being excluded; the export's own « rétraction » slip is
    the withdrawal right; « pas sur sa feuille » is the attendance list."""
    thesaurus = load_thesaurus()
    assert "exclusion" not in thesaurus.concepts_in("vous pouvez me la renvoyer ?")
    assert "exclusion" in thesaurus.concepts_in("renvoyé du stage par l'animateur")
    assert "retractation" in thesaurus.concepts_in("mon droit de rétraction")
    assert "listepresence" in thesaurus.concepts_in("je ne suis pas sur sa feuille")


def test_money_not_taken_is_not_money_taken():
    """« pas débité », « rien n'a été prélevé »: nothing went through (register again) — the opposite of « débité
    sans confirmation ». The negative forms of « debit » veto it, and « nondebite » names the situation."""
    from faqbot.index import analysis

    prefix = analysis.SYNONYM_PREFIX
    for text in ["je n'ai pas été débité", "rien n'a été prélevé sur mon compte", "aucun débit sur mon relevé"]:
        terms = analysis.analyze(text)
        assert prefix + "nondebite" in terms and prefix + "debit" not in terms, (text, terms)
    for text in ["j'ai été débité mais pas de confirmation", "débité sans confirmation"]:
        terms = analysis.analyze(text)
        assert prefix + "debit" in terms and prefix + "nondebite" not in terms, (text, terms)
