"""Bank details for refunds by transfer: IBAN (ISO 13616, mod-97, length per country), BIC, encryption at rest."""
from __future__ import annotations

import re

from babel import Locale
from cryptography.fernet import Fernet, InvalidToken

from .problems import Problem
from .reasons import N_

# ISO 3166 alpha-2 codes, from CLDR through Babel (numeric region codes such as "001" left out).
_COUNTRIES = frozenset(code for code in Locale("fr").territories if len(code) == 2 and code.isalpha())


def normalize_iban(value: str) -> str:
    """Upper-case and drop spaces, dashes and dots as people type them ("fr76 3000-6000 …")."""
    return re.sub(r"[\s.\-]+", "", value or "").upper()


def iban_problem(value: str, field: str = "iban") -> Problem | None:
    """Why this IBAN is not valid, or None when it is (schwifty: country registry, length, BBAN format, mod-97)."""
    from schwifty import IBAN
    from schwifty import exceptions as errors

    iban = normalize_iban(value)
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+", iban):
        return Problem("iban-forme", N_("Un IBAN commence par deux lettres (le pays) et deux chiffres, suivis de lettres et de chiffres."), field)
    try:
        IBAN(iban)
    except errors.InvalidCountryCode:
        return Problem("iban-pays", N_("Le pays « %(country)s » de cet IBAN n’est pas reconnu."), field, {"country": iban[:2]})
    except errors.InvalidLength:
        expected = _iban_length(iban)
        return Problem(
            "iban-longueur",
            N_("Un IBAN %(country)s compte %(expected)d caractères ; celui-ci en compte %(length)d."),
            field,
            {"country": iban[:2], "expected": expected, "length": len(iban)},
        )
    except ValueError:  # checksum, BBAN structure or national check digits
        return Problem("iban-cle", N_("Cet IBAN n’est pas valide (clé de contrôle incorrecte) : vérifiez chaque caractère."), field)
    return None


def _iban_length(iban: str) -> int:
    from schwifty import IBAN

    return int(IBAN(iban, allow_invalid=True).spec.iban_length)


def iban_checksum_ok(iban: str) -> bool:
    """ISO 13616 / ISO 7064 mod-97-10, as schwifty checks it."""
    from schwifty import IBAN

    try:
        IBAN(iban, validate_bban=False)
    except ValueError:
        return False
    return True


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
    """ISO 9362 shape and country, checked by schwifty: 4 letters, 2 (country), 2 (place), optional 3 (branch)."""
    from schwifty import BIC
    from schwifty import exceptions as errors

    bic = normalize_bic(value)
    try:
        BIC(bic, allow_invalid=False)
    except errors.InvalidCountryCode:
        return Problem("bic-pays", N_("Le pays « %(country)s » de ce BIC n’est pas reconnu."), field, {"country": bic[4:6]})
    except ValueError:
        return Problem(
            "bic-forme",
            N_("Un BIC compte 8 ou 11 caractères : 4 lettres pour la banque, 2 pour le pays, puis 2 (ou 5) lettres ou chiffres."),
            field,
        )
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
