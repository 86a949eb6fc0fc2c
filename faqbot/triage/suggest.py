"""Suggest a contact reason for what a visitor typed, from the cue vocabulary in `cues.py`.

Works on messages as people type them: accents dropped, SMS-speak expanded, near-miss spellings corrected, then
concepts matched and scored per reason. FAQ search hits, when a search function is given, add a small vote for
the reason their entries lead to.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from . import cues
from .reasons import REASONS_BY_ID
from .text import fold

_CONCEPTS = {name: tuple(re.compile(p) for p in patterns) for name, patterns in cues.CONCEPTS.items()}
_LEXICON = frozenset(cues.LEXICON)
# Words too short or too common to correct safely.
_NEVER_CORRECT = frozenset(
    "avoir etre faire suite entre autre autres notre votre leurs quand comme depuis encore apres avant toute "
    "toutes merci bonjour madame monsieur alors parce puisque quelle quels quelles cette ceci celle celui "
    "avais avait avons avez ont etais etait sommes etes sont serai serait pourrai pourrais pourriez voudrais "
    "voulais savoir dernier derniere premier premiere semaine heure heures jours mois annee lundi mardi mercredi "
    "jeudi vendredi samedi dimanche matin soir midi ville place adresse numero probleme problemes reponse".split()
)

SearchFunction = Callable[[str, int], Sequence]  # (text, limit) -> FAQ entries, best first


@dataclass(frozen=True)
class Suggestion:
    reason: str
    confidence: float  # 0..1: how clearly the message points to this reason rather than another
    scores: dict[str, float]
    concepts: tuple[str, ...]
    faq: tuple = ()  # FAQ entries matching the message (Entry objects), best first


def normalize(text: str, vocabulary: frozenset[str] = frozenset()) -> str:
    """Fold, expand SMS-speak and correct near-misses of cue words ("rembourssement" -> "remboursement")."""
    tokens: list[str] = []
    for token in fold(text).split():
        token = re.sub(r"(.)\1{2,}", r"\1", token)  # "stageee" -> "stage"
        expanded = cues.SMS.get(token)
        if expanded is not None:
            tokens.extend(expanded.split())
            continue
        tokens.extend(_split_elision(token).split() if token not in _LEXICON else [token])
    return " ".join(_correct(token, vocabulary) for token in tokens)


_LEXICON_STARTS = frozenset(word[:5] for word in cues.LEXICON if len(word) >= 5)


def _split_elision(token: str) -> str:
    """An apostrophe left out glues the article to the word ("minscrire", "lespace"): split it back."""
    for prefix in ("qu", "m", "l", "d", "j", "n", "s", "t"):
        rest = token[len(prefix):]
        if token.startswith(prefix) and len(rest) >= 5 and rest[:5] in _LEXICON_STARTS:
            return f"{prefix} {rest}"
    return token


def _correct(token: str, vocabulary: frozenset[str]) -> str:
    if len(token) < 5 or token.isdigit() or token in _LEXICON or token in _NEVER_CORRECT or token in vocabulary:
        return token
    return _closest(token)


@lru_cache(maxsize=8192)
def _closest(token: str) -> str:
    allowed = 1 if len(token) < 9 else 2  # two edits only in long words, where they cannot make another word
    match = process.extractOne(token, cues.LEXICON, scorer=Levenshtein.distance, score_cutoff=allowed)
    if not match:
        return token
    candidate = match[0]
    # In a short word one letter swapped for another mostly makes another real word ("manque" / "banque",
    # "femme" / "ferme"): there, only a letter left out, doubled or transposed counts as a typo.
    if len(token) < 7 and len(token) == len(candidate) and sorted(token) != sorted(candidate):
        return token
    # Same word, other ending ("changer" / "change", "payes" / "paye"): an inflection, not a typo; the cues'
    # patterns already accept endings, and "correcting" it would lose the grammar some cues rely on.
    stem = min(len(token), len(candidate)) - 2
    if token[:stem] == candidate[:stem]:
        return token
    return candidate


def concepts_in(normalized: str) -> set[str]:
    return {name for name, patterns in _CONCEPTS.items() if any(p.search(normalized) for p in patterns)}


def score(concepts: Iterable[str]) -> dict[str, float]:
    present = set(concepts)
    scores = {reason_id: 0.0 for reason_id in REASONS_BY_ID}
    for reason_id, needed, weight in cues.SCORES:
        if present.issuperset(needed):
            scores[reason_id] += weight
    return scores


def suggest(
    message: str,
    *,
    search: SearchFunction | None = None,
    vocabulary: frozenset[str] = frozenset(),
    faq_limit: int = 3,
) -> Suggestion:
    """The most likely reason for `message`, with a confidence and the FAQ entries that match it."""
    normalized = normalize(message or "", vocabulary)
    found = concepts_in(normalized)
    scores = score(found)
    entries: tuple = ()
    if search is not None and normalized:
        entries = tuple(search(message, max(faq_limit, 5)))
        # The FAQ's own link from an entry to a reason: a small vote, decisive only between close cue scores.
        for rank, entry in enumerate(entries[:3]):
            linked = getattr(entry, "contact_reason", None)
            if linked in scores:
                scores[linked] += 0.6 / (rank + 1)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, best_score), (_second, second_score) = ranked[0], ranked[1]
    if best_score < cues.MIN_SCORE:
        best = "autre"
        confidence = round(min(0.6, 0.3 + 0.1 * len(normalized.split()) / 10), 2) if normalized else 0.0
    else:
        confidence = round(best_score / (best_score + second_score + 1.0), 2)
    return Suggestion(best, confidence, scores, tuple(sorted(found)), entries[:faq_limit])
