"""What a visitor's text asks: long stories reduced to their question, each term weighted (verbose-query reduction).

A story is not a bag of 40 equal words. « Bonjour, ma fille a son permis depuis peu et elle a reçu une lettre… est-ce
qu'elle doit refaire un stage ? »: the sentence that asks (a question mark, an interrogative, « je voudrais
savoir ») carries the topic; the narrative around it gives context and counts for less; entities (dates, letters
48N/48SI, amounts: any word with a digit) always count in full. A short query (one sentence) is left as it is.
Pure function of the text: cached per process.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..content.text import fold_words
from . import analysis

# A text this long (in words) with two sentences or more is read as a story.
STORY_WORDS = 14
# Weight of the words of a story's narrative sentences, against 1 for the sentence that asks; a sentence that states
# the problem (a negation, a refusal, an error: « aucune réservation à mon nom ») weighs in between.
NARRATIVE_WEIGHT = 0.4
PROBLEM_WEIGHT = 0.8
# Entities (a word with a digit: 48N, 14 jours, 2024) weigh at least this much wherever they stand.
ENTITY_WEIGHT = 1.0
# Most terms a query contributes (a pasted document keeps its asking sentences first).
MAX_QUERY_TERMS = 40

_SENTENCES = re.compile(r"(?<=[.!?…;])\s+|\n+")
_QUESTION = re.compile(
    r"\b(comment|pourquoi|combien|quand|quel|quelle|quels|quelles|est ce que|est ce qu|puis je|peux je|dois je|"
    r"faut il|peut on|peut il|pouvez vous|vous pouvez|pourriez vous|est il possible|est ce possible|"
    r"je voudrais savoir|j aimerais savoir|je souhaite savoir|savoir si|que faire|que dois|quoi faire|"
    r"ai je le droit|a t on le droit|y a t il|existe t il|c est possible|possible de)\b"
)
_PROBLEM = re.compile(
    r"\b(pas|plus|rien|aucun|aucune|jamais|ni|sans|impossible|erreur|refus\w*|bloqu\w*|annul\w*|"
    r"rate|manque\w*|echou\w*|echec|probleme|bug\w*|trompe\w*|toujours pas|pas encore)\b"
)
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[tuple[str, float, int], ...]  # (term, weight, occurrences), concept tokens included
    units: tuple[tuple[str, frozenset[str], float], ...]  # each word with its concepts and its weight
    story: bool  # read as a story (sentences weighted)

    @property
    def wanted(self) -> frozenset[str]:
        return frozenset(term for term, _w, _n in self.terms)


def _folded(sentence: str) -> str:
    return fold_words(sentence, keep="?")


def _asks(sentence: str) -> bool:
    return bool(_QUESTION.search(_folded(sentence)))


def _states_a_problem(sentence: str) -> bool:
    return bool(_PROBLEM.search(_folded(sentence)))


def sentence_weights(text: str) -> list[tuple[str, float]]:
    """The text's sentences with their weight: 1 for what is asked, PROBLEM_WEIGHT for a sentence stating the
    problem, NARRATIVE_WEIGHT for the rest of the story."""
    sentences = [s.strip() for s in _SENTENCES.split(text) if s and s.strip()]
    if len(sentences) < 2 or len(text.split()) < STORY_WORDS:
        return [(text, 1.0)]
    # A question mark says it best; interrogatives only when no sentence has one ("quand même" is not a question).
    asking = ["?" in s for s in sentences]
    if not any(asking):
        asking = [_asks(s) for s in sentences]
    if not any(asking):
        asking[-1] = True  # no question mark nor interrogative: the last sentence is what is wanted
    return [
        (s, 1.0 if a else PROBLEM_WEIGHT if _states_a_problem(s) else NARRATIVE_WEIGHT)
        for s, a in zip(sentences, asking)
    ]


@lru_cache(maxsize=4096)
def parse(text: str) -> ParsedQuery:
    weighted = sentence_weights(text)
    story = len(weighted) > 1
    term_weight: dict[str, float] = {}
    term_count: dict[str, int] = {}
    unit_weight: dict[str, float] = {}
    unit_groups: dict[str, frozenset[str]] = {}
    # Asking sentences first, so a cap on the number of terms keeps them.
    for sentence, weight in sorted(weighted, key=lambda pair: -pair[1]):
        entity_concepts: set[str] = set()  # concepts an entity names (« 48N » -> the 48N letter) weigh as it does
        for term, groups in analysis.analyze_units(sentence):
            if term not in unit_weight and len(unit_weight) >= MAX_QUERY_TERMS:
                continue
            entity = bool(_DIGIT.search(term))
            if entity:
                entity_concepts |= groups
            w = max(weight, ENTITY_WEIGHT) if entity else weight
            unit_weight[term] = max(unit_weight.get(term, 0.0), w)
            unit_groups[term] = unit_groups.get(term, frozenset()) | groups
        for term in analysis.analyze(sentence):
            if term not in term_weight and len(term_weight) >= 2 * MAX_QUERY_TERMS:
                continue
            concept = term.startswith(analysis.SYNONYM_PREFIX)
            entity = term in entity_concepts if concept else bool(_DIGIT.search(term))
            w = max(weight, ENTITY_WEIGHT) if entity else weight
            term_weight[term] = max(term_weight.get(term, 0.0), w)
            term_count[term] = term_count.get(term, 0) + 1
    return ParsedQuery(
        terms=tuple((term, term_weight[term], term_count[term]) for term in term_weight),
        units=tuple((term, unit_groups[term], unit_weight[term]) for term in unit_weight),
        story=story,
    )
