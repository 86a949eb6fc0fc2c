"""The one choke point for payment card numbers: every text stored, logged, audited or e-mailed passes here.

A card is any 13–19-digit Luhn-valid sequence with a card issuer's prefix and length, whatever separates its
digits (any whitespace including NBSP and line breaks, dots, dashes of every kind, slashes, underscores, commas,
mixtures) and whatever touches it (letters, punctuation, other numbers). The digits are read as groups (digits
without a separator between them); a card is a run of whole consecutive groups, so « option 2 4970 … » or an
expiry written after it never hides it. An expiry or a CVV written right after a card goes with it.

Not cards: French phone numbers (10 digits), SIRET/SIREN introduced as such (python-stdnum checks them), valid
IBANs (schwifty checks them), dates, amounts and booking references (wrong length, prefix or checksum).

Callers: `triage.validate` (to show the visitor what was masked), the ORM hook installed by
`faqbot.security` (every string column and JSON value of every row flushed), `faqbot.mail.build_message` (subject
and body), the log filter of `faqbot.security`, and the search log (written with Core inserts).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from stdnum import luhn
from stdnum.fr import siret as stdnum_siret

CARD_MASK = "[numéro de carte masqué]"

# Characters people (and copy-paste) put between the digits of a card: every Unicode space and line break,
# dots, commas, slashes, underscores, every kind of dash, apostrophes and middle dots.
_SEPARATOR = r"[\s\u00a0\u202f\u2007.,/_\\'’·•*:+\-\u2010-\u2015\u2212]"
# Up to four separators between two digits (« 4970 - 1012 », "\n  "): farther apart, they are two numbers.
_RUN = re.compile(r"\d(?:%s{0,4}\d)*" % _SEPARATOR)
_GROUP = re.compile(r"\d+")
# After a card: « exp 12/27 », « 12/2027 », « cvv 123 », « (123) » — one or two of them go with the card.
_TRAIL = re.compile(
    r"""(?:[^\w\d]{0,4}
          (?:(?:exp\w*|date|valid\w*|fin|jusqu\w*|cvv\d?|cvc\d?|crypto\w*|code|cl[ée]|s[ée]curit[ée]|au|le)[^\w\d]{0,4}){0,3}
          (?:(?:0?[1-9]|1[0-2])\s*[/\-.]\s*(?:\d{4}|\d{2})|\d{3,4})(?!\d))
        {1,2}""",
    re.I | re.X,
)
_SIRET_CONTEXT = re.compile(r"(siret|siren|tva|rcs|entreprise|soci[ée]t[ée])\W{0,6}(n\W{0,3})?$", re.I)
# Candidate IBANs in free text: two letters, two digits, then letters/digits in groups (validated by schwifty).
_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[ \u00a0]?[A-Z0-9]){11,30}(?![A-Za-z0-9])", re.I)


@dataclass(frozen=True)
class Redacted:
    text: str
    count: int


def luhn_ok(digits: str) -> bool:
    return luhn.is_valid(digits)


def _issuer_ok(digits: str) -> bool:
    """Issuer prefix and length (Visa/CB, Mastercard, Amex, Diners, Discover, JCB, UnionPay, Maestro, Mir)."""
    n = len(digits)
    two, three, four, six = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    return (
        (digits[0] == "4" and n in (13, 16, 19))
        or ((51 <= two <= 55 or 2221 <= four <= 2720) and n == 16)
        or (two in (34, 37) and n == 15)
        or ((two in (36, 38, 39) or 300 <= three <= 305 or four == 3095) and 14 <= n <= 19)
        or ((four == 6011 or 644 <= three <= 649 or two == 65 or 622126 <= six <= 622925) and 16 <= n <= 19)
        or (3528 <= four <= 3589 and 16 <= n <= 19)
        or (two == 62 and 16 <= n <= 19)
        or ((two == 50 or 56 <= two <= 69) and 13 <= n <= 19)
        or (2200 <= four <= 2204 and 16 <= n <= 19)
    )


def looks_like_card(digits: str) -> bool:
    """Length 13–19, an issuer's prefix for that length, and the Luhn checksum."""
    return 13 <= len(digits) <= 19 and digits.isdigit() and _issuer_ok(digits) and luhn_ok(digits)


def _ascii_digits(text: str) -> str:
    """Any Unicode decimal digit (full-width, Arabic-Indic…) as its ASCII digit."""
    return "".join(str(unicodedata.decimal(char)) for char in text)


def _protected_spans(text: str) -> list[tuple[int, int]]:
    """Spans that hold a valid IBAN: its digits are an account number, not a card."""
    spans = []
    for match in _IBAN_CANDIDATE.finditer(text):
        if _valid_iban(match.group(0)):
            spans.append(match.span())
    return spans


def _valid_iban(value: str) -> bool:
    from schwifty import IBAN

    try:
        IBAN(value)
    except ValueError:
        return False
    return True


def _is_introduced_siret(text: str, start: int, digits: str) -> bool:
    if len(digits) != 14 or not stdnum_siret.is_valid(digits):
        return False
    return bool(_SIRET_CONTEXT.search(text[max(0, start - 30) : start].rstrip()))


def _find_card(text: str, groups: list[tuple[int, int, str]], first: int) -> tuple[int, int] | None:
    """The longest card made of whole groups starting at group `first`: (index of its last group, digit count)."""
    digits = ""
    best = None
    for last in range(first, len(groups)):
        digits += groups[last][2]
        if len(digits) > 19:
            break
        if len(digits) >= 13 and looks_like_card(digits) and not _is_introduced_siret(text, groups[first][0], digits):
            best = (last, len(digits))
    return best


def _glued_card(group: str) -> tuple[int, int] | None:
    """A card glued to another number without any separator ("4970…1234" + "123"): its offsets in the group."""
    for length in range(19, 12, -1):
        for start in (0, len(group) - length):
            if 0 <= start and start + length <= len(group) and looks_like_card(group[start : start + length]):
                return start, start + length
    return None


def redact_cards(text: str) -> Redacted:
    """Replace every card number in `text` (and the expiry/CVV written after it) with a mask; say how many."""
    if not text or not isinstance(text, str):
        return Redacted(text or "", 0)
    protected = _protected_spans(text)
    pieces: list[str] = []
    position = 0
    count = 0
    for run in _RUN.finditer(text):
        if run.end() <= position:
            continue
        if any(start <= run.start() < end for start, end in protected):
            continue
        groups = [
            (run.start() + g.start(), run.start() + g.end(), _ascii_digits(g.group(0)))
            for g in _GROUP.finditer(run.group(0))
        ]
        index = 0
        while index < len(groups):
            span = None
            found = _find_card(text, groups, index)
            if found is not None:
                last = found[0]
                span = (groups[index][0], groups[last][1])
                index = last + 1
            elif len(groups[index][2]) > 19:
                glued = _glued_card(groups[index][2])
                if glued is not None:
                    span = (groups[index][0] + glued[0], groups[index][0] + glued[1])
                index += 1
            else:
                index += 1
            if span is None or span[0] < position:
                continue
            end = span[1]
            next_is_card = index < len(groups) and _find_card(text, groups, index) is not None
            trail = None if next_is_card else _TRAIL.match(text, end)
            if trail:
                end = trail.end()
                while index < len(groups) and groups[index][0] < end:  # the expiry/CVV's own groups are consumed
                    index += 1
            pieces += [text[position : span[0]], CARD_MASK]
            position = end
            count += 1
    if not count:
        return Redacted(text, 0)
    pieces.append(text[position:])
    return Redacted("".join(pieces), count)


def redact_text(text: str) -> str:
    """`redact_cards(text).text`: for callers that only need the safe text."""
    return redact_cards(text).text


def redact_value(value: Any) -> Any:
    """Redact every string inside a JSON-like value (dicts, lists), keeping its shape."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(item) for item in value)
    return value
