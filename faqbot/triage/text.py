"""Text folding for the triage rules and reading: the one definition of faqbot.content.text, keeping € and %."""
from __future__ import annotations

from ..content.text import FRENCH_WORD_MIN_FREQUENCY, french_words, fold_words

__all__ = ["FRENCH_WORD_MIN_FREQUENCY", "fold", "french_words"]


def fold(text: str) -> str:
    """Lower-case, strip accents, keep letters, digits, € and % and single spaces ("Débité !" -> "debite")."""
    return fold_words(text, keep="€%")
