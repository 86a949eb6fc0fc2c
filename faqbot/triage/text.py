"""Text folding shared by the triage rules: case, accents and punctuation removed so cues match what people type."""
from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})


def fold(text: str) -> str:
    """Lower-case, strip accents, keep letters, digits and single spaces ("Débité !" -> "debite")."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("œ", "oe").replace("æ", "ae")
    text = re.sub(r"[^a-z0-9€%]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()
