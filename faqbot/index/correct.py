"""Typo correction against the FAQ's own vocabulary, before the query is analysed.

A word is left alone when the index already knows it (as typed, or once stemmed), when it holds a digit (codes
like 48SI, amounts) or when it is short: under 5 letters a single edit too often turns a word into another one.
Otherwise the closest word of the FAQ wins: 1 edit (transpositions count as one) from 5 letters, 2 from 7 (phone
typing often slips twice in a long word); ties go to a swap of two letters, then to a word with the same first
letter, then to the word used by the most entries.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from ..content.text import french_words
from . import analysis

MIN_LENGTH = 5
TWO_EDITS_FROM = 7
# Particles people glue to the next word when they skip the apostrophe ("lannulation", "jai", "dannuler").
_GLUED_PARTICLES = ("qu", "l", "d", "j", "n", "s", "c", "m", "t")


_PHONETIC_RULES = [(re.compile(pattern), replacement) for pattern, replacement in (
    (r"tion", "sion"), (r"eau|au", "o"), (r"qu|q|ck", "k"), (r"ph", "f"), (r"ch|sh", "$"), (r"c(?=[eiy])", "s"), (r"c", "k"),
    (r"g(?=[eiy])", "j"), (r"gu(?=[ei])", "g"), (r"y", "i"), (r"h", ""), (r"ai|ei|er$|ez$|et$", "e"),
    (r"[ae][nm](?![aeiou])", "@"), (r"[aeiu]in|in(?![aeiou])|un(?![aeiou])", "1"), (r"o[nm](?![aeiou])", "3"),
    (r"ss|(?<=[aeiou])s(?=[aeiou])", "s"), (r"[estdxp]+$", ""), (r"(.)\1+", r"\1"),
)]


def phonetic_key(word: str) -> str:
    """How a folded French word sounds, roughly: « paiman » and « paiement », « prochene » and « prochaine »,
    « permi » and « permis » meet (SMS spelling writes sounds)."""
    for pattern, replacement in _PHONETIC_RULES:
        word = pattern.sub(replacement, word)
    # The mute e of « -ement » (« remboursman »), when a syllable comes before it.
    if word.endswith("em@") and re.search(r"[aeiou@13]", word[:-3]):
        word = word[:-3] + "m@"
    return word


@dataclass(frozen=True)
class Correction:
    text: str  # the query with its words corrected (the visitor's other characters untouched)
    changed: bool


class Corrector:
    def __init__(self, vocabulary: dict[str, tuple[str, int]], known_terms: set[str]):
        """vocabulary: folded word -> (spelling with accents, number of entries using it); known_terms: index terms."""
        # The words of the thesaurus forms are the domain's words too: known, and valid corrections.
        vocabulary = dict(vocabulary)
        # (Not the SMS and misspelt forms: those are typed by visitors, never corrections to offer.)
        for concept in analysis.THESAURUS.concepts:
            for phrase in (*concept.forms.get("legal", ()), *concept.forms.get("everyday", ()), *concept.idioms):
                for word in analysis.surface_words(phrase):
                    if word.isalpha():
                        vocabulary.setdefault(word, (word, 0))
        self.vocabulary = vocabulary
        self.known_terms = known_terms
        self._choices = list(vocabulary)
        # Sound -> the vocabulary word used by the most entries with that sound.
        self._by_sound: dict[str, str] = {}
        for folded, (_spelling, count) in sorted(vocabulary.items(), key=lambda item: (-item[1][1], item[0])):
            if len(folded) >= MIN_LENGTH:
                self._by_sound.setdefault(phonetic_key(folded), folded)
        self._french = french_words()

    def is_known(self, folded: str) -> bool:
        if folded in self.vocabulary or folded in analysis.STOPWORDS or folded in analysis.NEGATIONS:
            return True
        if folded in analysis.ABBREVIATIONS or folded in self._french:
            return True
        # Known through its stem only when the stem keeps most of the word: "viement" stems to "vi" (known
        # from "vie") yet is a typo of "virement".
        terms = analysis.analyze(folded)
        return bool(terms) and all(
            term in self.known_terms and (term.startswith(analysis.SYNONYM_PREFIX) or len(term) >= max(3, len(folded) // 2))
            for term in terms
        )

    def correct_word(self, word: str) -> str | None:
        """The corrected spelling of one word (no elision), or None to leave it as typed."""
        folded = analysis.fold(analysis.normalise_apostrophes(word))
        if len(folded) < MIN_LENGTH or not folded.isalpha():
            return None
        glued = self._unglued(folded)
        # A glued particle is read even when the FAQ itself holds the glued spelling (a variant written the way
        # visitors type, « linscription »): the word then counts as « inscription » everywhere else. Not for real
        # French words (« davantage » is not « d'avantage »).
        if glued is not None and folded not in self._french and folded not in analysis.ABBREVIATIONS:
            return glued
        if self.is_known(folded):
            return None
        corrected = self._closest(folded)
        # « linscripsion » sounds like the FAQ's own « linscription »: that is « l'inscription » too.
        if corrected is not None and analysis.fold(corrected) not in self._french:
            return self._unglued(analysis.fold(corrected)) or corrected
        return corrected

    def _closest(self, folded: str) -> str | None:
        """The FAQ word an unknown word most likely stands for (SMS « k », sound, then edit distance)."""
        # Phonetic SMS spelling: "k" for "qu" ("kestion" is "question", never "gestion"; "kelle", "pourkoi").
        if "k" in folded:
            phonetic = folded.replace("k", "qu")
            if phonetic in self.vocabulary:
                return self.vocabulary[phonetic][0]
            if phonetic in self._french:
                return phonetic
        # Written as it sounds ("paiman", "prochene", "permi"): the FAQ word that sounds the same.
        sound = phonetic_key(folded)
        if len(sound) >= 3 and sound in self._by_sound:
            return self.vocabulary[self._by_sound[sound]][0]
        max_edits = 2 if len(folded) >= TWO_EDITS_FROM else 1
        matches = process.extract(
            folded, self._choices, scorer=OSA.distance, score_cutoff=max_edits, limit=20
        )
        if not matches:
            return None
        # Ties: two letters swapped is the commonest slip on a phone ("protable" is "portable", not "probable");
        # the first letter is rarely the wrong one ("cetre" is "centre", not "être"); a word of 5+ letters is more
        # likely a content word than a stopword; then the word used by the most entries.
        best = min(
            matches,
            key=lambda m: (
                m[1], not _is_swap(folded, m[0]), m[0][0] != folded[0], m[0] in analysis.STOPWORDS,
                -self.vocabulary[m[0]][1], abs(len(m[0]) - len(folded)),
            ),
        )
        return self.vocabulary[best[0]][0]

    def _unglued(self, folded: str) -> str | None:
        """« l'inscription » for « linscription »: a particle glued to a word of the FAQ (apostrophe skipped)."""
        for particle in _GLUED_PARTICLES:
            rest = folded[len(particle):]
            # "cetre" is "centre" mistyped, not "c'être": a glued particle comes before a content word.
            if folded.startswith(particle) and len(rest) >= 4 and rest in self.vocabulary and rest not in analysis.STOPWORDS:
                return particle + "'" + self.vocabulary[rest][0]
        return None

    def correct(self, text: str) -> Correction:
        pieces, last, changed = [], 0, False
        for word, start, end in analysis.word_spans(text):
            particle, rest = analysis.split_elision(word)
            if _proper_noun(text, start, rest):
                continue  # « l'hôtel de Chambéry » is a town, not « chambre »
            replacement = self.correct_word(rest)
            if replacement is None:
                continue
            pieces.append(text[last:start])
            pieces.append(particle + replacement)
            last = end
            changed = True
        pieces.append(text[last:])
        return Correction(text="".join(pieces), changed=changed)


_SENTENCE_END = ".!?…\n"


def _proper_noun(text: str, start: int, word: str) -> bool:
    """A capitalised word inside a sentence (« à Chambéry », « chez Norauto »): a name, never a typo to correct."""
    if len(word) < 2 or not (word[0].isupper() and word[1:].islower()):
        return False
    before = text[:start].rstrip(" \t\"'«“(’'")
    return bool(before) and before[-1] not in _SENTENCE_END


def _is_swap(typed: str, word: str) -> bool:
    """True when `word` is `typed` with two neighbouring letters exchanged."""
    if len(typed) != len(word) or typed == word:
        return False
    diff = [i for i, (a, b) in enumerate(zip(typed, word)) if a != b]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and typed[diff[0]] == word[diff[1]] and typed[diff[1]] == word[diff[0]]
