"""Card numbers typed into free text are redacted before anything is stored, logged or e-mailed.

A candidate is a maximal run of digits separated by single spaces or dashes, 13 to 19 digits long, that passes
the Luhn check and starts like a payment card. French phone numbers (10 digits), booking numbers and IBANs never
form such a run; SIRET numbers are 14 digits and Luhn-valid by design, so a 14-digit run is a card only when it
starts like a Diners card and is not introduced as a SIRET.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

CARD_MASK = "[numéro de carte masqué]"

# Digits joined by at most one space or dash; letters or other digits around it end the run.
_RUN = re.compile(r"(?<![\w.,])\d(?:[ \-]?\d)*(?!\w)")
_SIRET_CONTEXT = re.compile(r"(siret|siren|tva|rcs|dossier|r[ée]servation|commande|demande|facture|ants)\W{0,6}(n\W{0,3})?$", re.I)


@dataclass(frozen=True)
class Redacted:
    text: str
    count: int


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def looks_like_card(digits: str) -> bool:
    """Length, issuer prefix (Visa, Mastercard, CB, Amex, Diners, Discover, JCB, Maestro, UnionPay) and Luhn."""
    if not 13 <= len(digits) <= 19 or not luhn_ok(digits):
        return False
    if len(digits) == 14:
        return digits[:2] in {"36", "38", "39"} or digits[:3] in {"300", "301", "302", "303", "304", "305"}
    return digits[0] in "23456"


def redact_cards(text: str) -> Redacted:
    """Replace every card number in `text` with a mask; say how many were found."""
    if not text:
        return Redacted(text or "", 0)
    count = 0

    def replace(match: re.Match) -> str:
        nonlocal count
        digits = re.sub(r"\D", "", match.group(0))
        if not looks_like_card(digits):
            return match.group(0)
        if len(digits) == 14 and _SIRET_CONTEXT.search(text[max(0, match.start() - 30) : match.start()].rstrip()):
            return match.group(0)
        count += 1
        return CARD_MASK

    redacted = _RUN.sub(replace, text)
    return Redacted(redacted, count)
