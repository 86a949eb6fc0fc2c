"""Grep what the app leaves on disk — database files (with -wal/-shm), logs, outbox — for secrets in clear.

Two kinds of search: exact secrets a test knows it typed (passwords, session cookies, the card numbers and IBANs
it submitted, in every spelling), and detectors for any card number (Luhn-valid, with a card network's prefix and
length) or IBAN (valid ISO 13616 mod-97 check and country length) whoever typed it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Files the application writes that could keep what a visitor or an agent typed.
DATA_SUFFIXES = (".sqlite3", ".sqlite", ".db", "-wal", "-shm", "-journal", ".log", ".eml", ".txt", ".json", ".csv")
DATA_DIRS = {"outbox", "logs", "log"}
SKIP_DIRS = {"index"}  # the search index holds the public FAQ only

IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24,
    "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27,
}
# How people write a card number: 13-19 digits in one run, or groups of four (Amex: 4-6-5) split by one space or
# dash used throughout. Like the app's own redaction, a run glued to a letter, digit, dot or comma is not one:
# that keeps SQLite's adjacent timestamps ("…38.542358" + "2026-11-24…") and Message-IDs ("….4978…@") out.
# Besides the space and the dash, the separators the red team used (issue 12): dots, slashes, underscores, tabs,
# line breaks, double spaces, NBSP (UTF-8) — still one separator used throughout, so dates and times stay out.
_SEP = rb"(?: |-|\.|/|_|\t|\n|\r\n|  |\xc2\xa0|\xe2\x80\xaf| - )"
_CARD_CANDIDATE = re.compile(
    rb"(?<![\w.,])(?:\d{13,19}|\d{4}(?:(" + _SEP + rb")\d{4}){2,3}(?:\1\d{1,3})?|\d{4}(" + _SEP + rb")\d{6}\2\d{5})(?![\w@])"
)
_IBAN_CANDIDATE = re.compile(rb"(?<![A-Z0-9])([A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30})(?![A-Z0-9])")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_network(digits: str) -> str | None:
    """The card network a number's prefix and length belong to (None: not a card number's shape)."""
    n = len(digits)
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if n == 16 and (51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720):
        return "mastercard"
    if n == 15 and digits[:2] in ("34", "37"):
        return "amex"
    if 16 <= n <= 19 and (digits.startswith("6011") or digits.startswith("65") or 644 <= int(digits[:3]) <= 649):
        return "discover"
    if 16 <= n <= 19 and 3528 <= int(digits[:4]) <= 3589:
        return "jcb"
    if n == 14 and digits[:2] in ("36", "38", "30"):
        return "diners"
    return None


def iban_valid(candidate: str) -> bool:
    iban = candidate.replace(" ", "")
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is None or len(iban) != expected:
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def card_spellings(number: str) -> list[str]:
    """The ways a card number can be typed: digits only, in groups of four with spaces or dashes."""
    digits = re.sub(r"\D", "", number)
    groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    return sorted({digits, " ".join(groups), "-".join(groups), number})


def iban_spellings(iban: str) -> list[str]:
    compact = iban.replace(" ", "").upper()
    grouped = " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return sorted({compact, grouped, compact.lower(), iban})


@dataclass(frozen=True)
class Finding:
    path: Path
    kind: str
    value: str
    context: str

    def __str__(self) -> str:
        return f"{self.kind} {self.value!r} in {self.path} …{self.context}…"


def data_files(root: Path) -> list[Path]:
    """Every file under root the application may have written data into (the search index excluded)."""
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or SKIP_DIRS & set(path.relative_to(root).parts[:-1]):
            continue
        if path.name.endswith(DATA_SUFFIXES) or DATA_DIRS & set(path.parts):
            found.append(path)
    return found


def _context(blob: bytes, start: int, end: int) -> str:
    return blob[max(0, start - 40) : end + 40].decode("utf-8", "replace").replace("\n", " ")


def scan_bytes(blob: bytes, path: Path, exact: dict[str, list[str]]) -> list[Finding]:
    """Findings in one file's bytes; `exact` maps a kind ("password", "cookie"…) to the strings to look for."""
    findings = []
    for kind, needles in exact.items():
        for needle in needles:
            for encoded in {needle.encode("utf-8"), needle.encode("utf-16-le")}:
                position = blob.find(encoded)
                if position >= 0:
                    findings.append(Finding(path, kind, needle, _context(blob, position, position + len(encoded))))
    for match in _CARD_CANDIDATE.finditer(blob):
        digits = re.sub(rb"\D", b"", match.group()).decode()
        if luhn_valid(digits) and card_network(digits):
            findings.append(Finding(path, "card-number", digits, _context(blob, match.start(), match.end())))
    for match in _IBAN_CANDIDATE.finditer(blob):
        candidate = match.group(1).decode()
        # The candidate may run on into following characters: try every prefix long enough to be an IBAN.
        compact = candidate.replace(" ", "")
        for length in sorted(set(IBAN_LENGTHS.values()), reverse=True):
            if len(compact) >= length and iban_valid(compact[:length]):
                findings.append(Finding(path, "iban", compact[:length], _context(blob, match.start(), match.end())))
                break
    return findings


def scan_tree(root: Path, exact: dict[str, list[str]] | None = None) -> tuple[list[Path], list[Finding]]:
    """Scan every data file under root; returns (files scanned, findings)."""
    files = data_files(root)
    findings: list[Finding] = []
    for path in files:
        try:
            blob = path.read_bytes()
        except OSError:  # removed between listing and reading (a checkpointed -wal)
            continue
        findings += scan_bytes(blob, path, exact or {})
    return files, findings
