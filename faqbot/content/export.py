"""The raw FAQ export (data/raw/000_…): its lines, normalised, and the folded form used to compare text.

The export is one paragraph per line with no separators; questions were lost and every answer is repeated
under several categories. Line numbers are 1-based, as an editor shows them, so reports and `sources` can
point a curator straight at the file.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .text import fold_words

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXPORT_NAME = "000_cdcf55a96b9c9e63.txt"
DEFAULT_EXPORT = PROJECT_ROOT / "data" / "raw" / EXPORT_NAME
RAW_DIR = PROJECT_ROOT / "data" / "raw"

_SPACES = re.compile(r"\s+")
_LINK_TARGET = re.compile(r"\]\([^)\s]*\)")


def normalise_line(text: str) -> str:
    """NFC, every run of (Unicode) spaces as one space, trimmed; apostrophes and quotes are kept as written."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """Comparison form: no accents, lower case, punctuation/emoji/Markdown markers as single spaces.

    Curated answers turn "1️⃣ Vérifiez" into "1. Vérifiez", "✅ x" into "- x", "Important :" into
    "**Important :**" and may swap ’ for ' — folding makes all of these compare equal to the export.
    """
    # A curated "[cliquant ici](…)" compares equal to the export's "cliquant ici".
    return fold_words(_LINK_TARGET.sub("]", text))


@dataclass(frozen=True)
class DistinctLine:
    """One distinct (normalised) line of the export; `number` is its D-number, in order of first appearance."""

    number: int
    text: str
    line_numbers: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"D{self.number}"

    @cached_property
    def folded(self) -> str:
        return fold(self.text)


@dataclass(frozen=True)
class Export:
    name: str
    lines: tuple[str, ...]  # normalised; lines[0] is line 1
    raw_line_count: int
    distinct: tuple[DistinctLine, ...] = field(default=())

    @cached_property
    def distinct_by_line(self) -> dict[int, DistinctLine]:
        """Line number (1-based) → its distinct line."""
        return {number: d for d in self.distinct for number in d.line_numbers}

    @cached_property
    def distinct_by_text(self) -> dict[str, DistinctLine]:
        return {d.text: d for d in self.distinct}

    @property
    def non_empty_line_count(self) -> int:
        return sum(1 for line in self.lines if line)


def read_export(path: str | Path = DEFAULT_EXPORT) -> Export:
    """Read and normalise the export; empty lines are kept (for numbering) but are not distinct lines."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    raw_lines = text.split("\n")
    if raw_lines and raw_lines[-1] == "" and text.endswith("\n"):
        raw_lines.pop()  # a final newline ends the last line, it does not start a new one
    lines = tuple(normalise_line(line) for line in raw_lines)
    occurrences: dict[str, list[int]] = {}
    for number, line in enumerate(lines, start=1):
        if line:
            occurrences.setdefault(line, []).append(number)
    distinct = tuple(
        DistinctLine(number=k, text=line, line_numbers=tuple(numbers))
        for k, (line, numbers) in enumerate(occurrences.items())
    )
    return Export(name=path.name, lines=lines, raw_line_count=len(raw_lines), distinct=distinct)


def raw_line_counts(raw_dir: str | Path = RAW_DIR) -> dict[str, int]:
    """Line count of every raw source file, to check `sources` references point inside their file."""
    counts = {}
    for path in sorted(Path(raw_dir).glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        counts[path.name] = len(text.split("\n")) - (1 if text.endswith("\n") else 0)
    return counts
