"""Text folding shared by the triage rules: case, accents and punctuation removed so cues match what people type."""
from __future__ import annotations

import gzip
import json
import re
import unicodedata
from importlib import resources

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})


def fold(text: str) -> str:
    """Lower-case, strip accents, keep letters, digits and single spaces ("Débité !" -> "debite")."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("œ", "oe").replace("æ", "ae")
    text = re.sub(r"[^a-z0-9€%]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


# A word this common in general French is a word, not a typo (the same list and threshold as search's corrector).
FRENCH_WORD_MIN_FREQUENCY = 40


def french_words() -> frozenset[str]:
    """Folded common French words (pyspellchecker's frequency list). Slow (~1 s): read when a model is trained."""
    try:
        data = resources.files("spellchecker").joinpath("resources/fr.json.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):
        return frozenset()
    counts = json.loads(gzip.decompress(data))
    return frozenset(fold(word) for word, count in counts.items() if count >= FRENCH_WORD_MIN_FREQUENCY)
