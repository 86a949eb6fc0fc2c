"""How text is folded for comparison — the one definition for search, triage and the content tools.

    fold("L’Œuvre à côté")            -> "l'oeuvre a cote"   (case, accents, ligatures off; one apostrophe)
    fold_words("Débité ! 3 €", "€")   -> "debite 3 €"        (and every other character a single space)
    french_words()                    -> folded common French words (pyspellchecker's frequency list)

No Flask, no whoosh: the thesaurus, the search analyzer, the triage reading and the export comparison build on it.
"""
from __future__ import annotations

import gzip
import json
import re
import unicodedata
from functools import lru_cache
from importlib import resources

# Every apostrophe people type or paste: straight, typographic, modifier letter, backtick, acute accent.
APOSTROPHES = "'\u2019\u2018\u02bc\u00b4`"
_APOSTROPHE = re.compile("[" + APOSTROPHES + "]")
# A word this common in general French is a word, not a typo (search's corrector and triage's reading alike).
FRENCH_WORD_MIN_FREQUENCY = 40


def fold(text: str) -> str:
    """Lowercase, accents off, ligatures spelled out, one kind of apostrophe ("L’Œuvre" -> "l'oeuvre")."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _APOSTROPHE.sub("'", text)


@lru_cache(maxsize=8)
def _non_word(keep: str) -> re.Pattern[str]:
    return re.compile("[^a-z0-9" + re.escape(keep) + "]+")


def fold_words(text: str, keep: str = "") -> str:
    """`fold`, then every character but a-z, 0-9 and those in `keep` as one space, trimmed ("Débité !" -> "debite")."""
    return _non_word(keep).sub(" ", fold(text)).strip()


@lru_cache(maxsize=1)
def french_words() -> frozenset[str]:
    """Folded forms of common French words, loaded once per process (about 1 s)."""
    try:
        data = resources.files("spellchecker").joinpath("resources/fr.json.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):  # without the list, only the FAQ's own words count as known
        return frozenset()
    counts = json.loads(gzip.decompress(data))
    return frozenset(fold(word) for word, count in counts.items() if count >= FRENCH_WORD_MIN_FREQUENCY)
