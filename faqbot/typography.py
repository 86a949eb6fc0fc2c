"""French typography at display time: non-breaking spaces where French typesetting puts them.

Applied once, when a page is rendered (the `typo` Jinja filter and the templates' gettext), never to stored data:
what a visitor typed is kept as typed, and an input's value is never passed through here (it would come back
changed). A « ? » that falls alone at the start of a line, or « 229,50 » on one line and « € » on the next, is what
this prevents.
"""
from __future__ import annotations

import re

from markupsafe import Markup, escape

NBSP = "\u00a0"  # before « : » and inside « », in amounts and dates
NNBSP = "\u202f"  # narrow, before « ? ! ; » and between groups of thousands

_MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
_DAYS = "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[ \t]+([?!;])"), NNBSP + r"\1"),
    (re.compile(r"[ \t]+:(?=\s|$)"), NBSP + ":"),
    (re.compile(r"«[ \t]+"), "«" + NBSP),
    (re.compile(r"[ \t]+»"), NBSP + "»"),
    # Amounts and units: "229,50 €", "14 jours", "48 h", "1 672" (thousands).
    (re.compile(r"(\d)[ \t]+(€|%|EUR\b|h\b|min\b|jours?\b|mois\b|ans?\b|points?\b|heures?\b)"), r"\1" + NBSP + r"\2"),
    (re.compile(r"(?<![\d,.])(\d{1,3})[ \t](?=\d{3}(?!\d))"), r"\1" + NNBSP),
    # Dates: "vendredi 4 décembre 2026" stays on one line.
    (re.compile(rf"\b({_DAYS})[ \t]+(\d{{1,2}}(?:er)?)\b", re.IGNORECASE), r"\1" + NBSP + r"\2"),
    (re.compile(rf"(\d{{1,2}}(?:er)?)[ \t]+({_MONTHS})\b", re.IGNORECASE), r"\1" + NBSP + r"\2"),
    (re.compile(rf"\b({_MONTHS})[ \t]+(\d{{4}})\b", re.IGNORECASE), r"\1" + NBSP + r"\2"),
)

_TAG = re.compile(r"(<[^>]*>)")


def french_spacing(text: str) -> str:
    """Plain text with French non-breaking spaces (no escaping: the caller decides)."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def typo(value) -> Markup | str:
    """Jinja filter: the same text, typeset; markup (a rendered answer) is typeset in its text only, never its tags."""
    if value is None:
        return ""
    if isinstance(value, Markup) or hasattr(value, "__html__"):
        html = str(value.__html__())
        return Markup("".join(part if part.startswith("<") else french_spacing(part) for part in _TAG.split(html)))
    return Markup(french_spacing(str(escape(str(value)))))
