"""Bank details for refunds by transfer: IBAN (ISO 13616, mod-97, length per country), BIC, encryption at rest."""
from __future__ import annotations

import re

from babel import Locale
from cryptography.fernet import Fernet, InvalidToken

from .problems import Problem
from .reasons import N_

# IBAN length per country (SWIFT IBAN registry): a wrong length is caught before the checksum.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

# ISO 3166 alpha-2 codes, from CLDR through Babel (numeric region codes such as "001" left out).
_COUNTRIES = frozenset(code for code in Locale("fr").territories if len(code) == 2 and code.isalpha())
_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$")


def normalize_iban(value: str) -> str:
    """Upper-case and drop spaces, dashes and dots as people type them ("fr76 3000-6000 …")."""
    return re.sub(r"[\s.\-]+", "", value or "").upper()


def iban_problem(value: str, field: str = "iban") -> Problem | None:
    """Why this IBAN is not valid, or None when it is."""
    iban = normalize_iban(value)
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+", iban):
        return Problem("iban-forme", N_("Un IBAN commence par deux lettres (le pays) et deux chiffres, suivis de lettres et de chiffres."), field)
    country = iban[:2]
    expected = IBAN_LENGTHS.get(country)
    if expected is None:
        return Problem("iban-pays", N_("Le pays « %(country)s » de cet IBAN n’est pas reconnu."), field, {"country": country})
    if len(iban) != expected:
        return Problem(
            "iban-longueur",
            N_("Un IBAN %(country)s compte %(expected)d caractères ; celui-ci en compte %(length)d."),
            field,
            {"country": country, "expected": expected, "length": len(iban)},
        )
    if not iban_checksum_ok(iban):
        return Problem("iban-cle", N_("Cet IBAN n’est pas valide (clé de contrôle incorrecte) : vérifiez chaque caractère."), field)
    return None


def iban_checksum_ok(iban: str) -> bool:
    """ISO 13616 / ISO 7064 mod-97-10: move the first four characters to the end, letters to numbers, remainder 1."""
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(c, 36)) for c in rearranged)
    return int(digits) % 97 == 1


def format_iban(value: str) -> str:
    iban = normalize_iban(value)
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def mask_iban(value: str) -> str:
    """Country, check digits and the last four characters only: enough for a person to recognise their account."""
    iban = normalize_iban(value)
    hidden = iban[:4] + "•" * (len(iban) - 8) + iban[-4:]
    return " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))


def normalize_bic(value: str) -> str:
    return re.sub(r"[\s.\-]+", "", value or "").upper()


def bic_problem(value: str, field: str = "bic") -> Problem | None:
    """ISO 9362 shape: 4 letters (bank), 2 letters (country), 2 letters or digits (place), optional 3 (branch)."""
    bic = normalize_bic(value)
    if not _BIC.fullmatch(bic):
        return Problem(
            "bic-forme",
            N_("Un BIC compte 8 ou 11 caractères : 4 lettres pour la banque, 2 pour le pays, puis 2 (ou 5) lettres ou chiffres."),
            field,
        )
    if bic[4:6] not in _COUNTRIES:
        return Problem("bic-pays", N_("Le pays « %(country)s » de ce BIC n’est pas reconnu."), field, {"country": bic[4:6]})
    return None


def encrypt_iban(value: str, key: str | bytes) -> bytes:
    """Fernet-encrypt the normalized IBAN: the key lives outside the database, so a copied file reveals nothing."""
    return Fernet(key).encrypt(normalize_iban(value).encode("ascii"))


def decrypt_iban(token: bytes, key: str | bytes) -> str:
    """Give the IBAN back to a staff member who needs it (callers record who asked)."""
    try:
        return Fernet(key).decrypt(token).decode("ascii")
    except InvalidToken as error:
        raise ValueError("IBAN illisible avec la clé actuelle (IBAN_KEY a-t-elle changé ?)") from error
