"""Which export lines an entry's answer carries, as `sources` references, and rewriting them in place.

The rewrite edits only the text of each `sources:` value and re-parses the result: if anything other than
those values would change, nothing is written.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from .check import carried_by, snippet_lines
from .curation import LINE_SIMILARITY, MIN_FUZZY_LENGTH
from .export import Export, fold
from .model import Entry, Faq, parse_faq

# A short generic line ("Pour cela :", "Important :") is in many answers; it is attributed to an entry only
# next to a line of that entry long enough to be its own (a distinctive line).
DISTINCTIVE_LENGTH = 40


def carried_line_numbers(
    entry: Entry,
    export: Export,
    snippet_folds: set[str] | None = None,
    carriers: dict[int, list[str]] | None = None,
) -> list[int]:
    """Raw line numbers (1-based) of the export that this entry's answer carries, every occurrence included.

    `carriers` (distinct number → entry ids, from `line_carriers`) avoids recomputing the matches per entry.
    """
    if carriers is None:
        carriers = line_carriers([entry], export, snippet_folds or set())
    carried = {number for number, ids in carriers.items() if entry.id in ids}
    # Older versions of a carried line (near-duplicates) are the same answer filed elsewhere.
    kept = [d for d in export.distinct if d.number in carried and len(d.folded) >= MIN_FUZZY_LENGTH]
    kept_texts = [d.folded for d in kept]
    for line in export.distinct:
        if line.number in carried or len(line.folded) < MIN_FUZZY_LENGTH or line.folded in (snippet_folds or set()):
            continue
        if kept_texts and process.extractOne(line.folded, kept_texts, scorer=fuzz.ratio, score_cutoff=LINE_SIMILARITY):
            carried.add(line.number)
    numbers = sorted(n for d in export.distinct if d.number in carried for n in d.line_numbers)
    distinctive = {n for n in numbers if len(export.distinct_by_line[n].folded) >= DISTINCTIVE_LENGTH}
    # Keep runs of consecutive carried lines that hold at least one distinctive line.
    result: list[int] = []
    run: list[int] = []
    for n in numbers + [-10]:
        if run and n != run[-1] + 1:
            if distinctive.intersection(run):
                result += run
            run = []
        run.append(n)
    return result


def line_carriers(entries: list[Entry], export: Export, snippet_folds: set[str]) -> dict[int, list[str]]:
    """Distinct line number → ids of the entries whose answer carries it (snippet lines excluded)."""
    answers = [(e.id, f" {fold(e.answer)} ") for e in entries]
    return {
        line.number: ids
        for line in export.distinct
        if line.folded and line.folded not in snippet_folds and (ids := carried_by(line, answers))
    }


def line_ranges(numbers: list[int], file_name: str) -> list[str]:
    """["<file>:12-15", "<file>:40"] for the line numbers (consecutive numbers become one range)."""
    refs: list[str] = []
    start = previous = None
    for n in sorted(set(numbers)) + [None]:
        if start is not None and (n is None or n != previous + 1):
            refs.append(f"{file_name}:{start}" if start == previous else f"{file_name}:{start}-{previous}")
            start = None
        if n is not None and start is None:
            start = n
        previous = n
    return refs


def compute_sources(faq_path: str | Path, export: Export, only: set[str] | None = None) -> dict[str, tuple[list[str], list[str]]]:
    """entry id → (its declared `sources` into the export, the references computed from its answer)."""
    data = yaml.safe_load(Path(faq_path).read_text(encoding="utf-8"))
    faq: Faq = parse_faq(data)
    folds = snippet_lines(faq)
    prefix = f"{export.name}:"
    carriers = line_carriers(list(faq.entries), export, folds)
    result = {}
    for entry in faq.entries:
        if only and entry.id not in only:
            continue
        declared = [s for s in entry.sources if s.startswith(prefix)]
        result[entry.id] = (declared, line_ranges(carried_line_numbers(entry, export, folds, carriers), export.name))
    return result


_ENTRY_START = re.compile(r"^(?P<indent>\s*)- id:\s*(?P<id>\S+)\s*$")


def _format_sources(indent: str, refs: list[str]) -> list[str]:
    # The file's style: quoted items in a flow list, wrapped at 110 columns with a 4-space continuation.
    items = ", ".join(f"'{r}'" for r in refs)
    line = f"{indent}sources: [{items}]"
    if len(line) <= 110 or not refs:
        return [line]
    lines, current = [], f"{indent}sources: ["
    for k, ref in enumerate(refs):
        piece = f"'{ref}'" + (", " if k + 1 < len(refs) else "]")
        if len(current) + len(piece.rstrip()) > 110 and not current.endswith("["):
            lines.append(current.rstrip())
            current = indent + "  "
        current += piece
    lines.append(current)
    return lines


def rewrite_sources(faq_path: str | Path, computed: dict[str, list[str]], export_name: str) -> int:
    """Replace each entry's export references by the computed ones, other files' references kept first."""
    path = Path(faq_path)
    original = path.read_text(encoding="utf-8")
    before = yaml.safe_load(original)
    declared = {e["id"]: list(e.get("sources") or []) for e in before["entries"]}
    lines = original.split("\n")
    out: list[str] = []
    changed = 0
    current_id: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        start = _ENTRY_START.match(line)
        if start:
            current_id = start["id"].strip("'\"")
        match = re.match(r"^(?P<indent>\s*)sources:(?P<rest>.*)$", line)
        if match and current_id in computed:
            # The value spans this line and its continuation lines (wrapped flow list or block list).
            j = i + 1
            rest = match["rest"].strip()
            if rest.startswith("["):
                j = i
                while j < len(lines) - 1 and "]" not in lines[j]:
                    j += 1
                j += 1
            elif rest == "":
                while j < len(lines) and re.match(rf"^{match['indent']}\s*- ", lines[j]):
                    j += 1
            others = [s for s in declared.get(current_id, []) if not s.startswith(f"{export_name}:")]
            refs = others + computed[current_id]
            if refs != declared.get(current_id):
                out += _format_sources(match["indent"], refs)
                changed += 1
            else:
                out += lines[i:j]
            i = j
            continue
        out.append(line)
        i += 1
    text = "\n".join(out)
    after = yaml.safe_load(text)
    expected = yaml.safe_load(original)
    for entry in expected["entries"]:
        if entry["id"] in computed:
            others = [s for s in entry.get("sources") or [] if not s.startswith(f"{export_name}:")]
            if "sources" in entry:
                entry["sources"] = others + computed[entry["id"]]
    if after != expected:
        raise ValueError("la réécriture changerait autre chose que les `sources` : fichier laissé intact")
    path.write_text(text, encoding="utf-8")
    return changed
