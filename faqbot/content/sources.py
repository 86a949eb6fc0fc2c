"""Which export lines an entry's answer carries, as `sources` references, and rewriting them in place.

The rewrite goes through the stable writer (faqbot/content/writer.py): the file keeps its canonical layout and
only the `sources:` values change.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from .curation import LINE_SIMILARITY, MIN_FUZZY_LENGTH, carried_by, snippet_lines
from .export import Export, fold
from .model import Entry, Faq, parse_faq

# A short generic line ("Pour cela :", "Important :") is in many answers; it is attributed to an entry only
# next to a line of that entry long enough to be its own (a distinctive line).
DISTINCTIVE_LENGTH = 40


def near_neighbours(export: Export) -> dict[int, set[int]]:
    """Distinct line number → the other distinct lines (of fuzzy-comparable length) that are near-duplicates of it."""
    lines = [d for d in export.distinct if len(d.folded) >= MIN_FUZZY_LENGTH]
    texts = [d.folded for d in lines]
    return {
        line.number: {lines[k].number for _, _, k in process.extract(line.folded, texts, scorer=fuzz.ratio, score_cutoff=LINE_SIMILARITY, limit=None)} - {line.number}
        for line in lines
    }


def carried_line_numbers(
    entry: Entry,
    export: Export,
    snippet_folds: set[str] | None = None,
    carriers: dict[int, list[str]] | None = None,
    neighbours: dict[int, set[int]] | None = None,
) -> list[int]:
    """Raw line numbers (1-based) of the export that this entry's answer carries, every occurrence included.

    `carriers` (distinct number → entry ids, from `line_carriers`) and `neighbours` (from `near_neighbours`)
    avoid recomputing the matches per entry.
    """
    if carriers is None:
        carriers = line_carriers([entry], export, snippet_folds or set())
    if neighbours is None:
        neighbours = near_neighbours(export)
    carried = {number for number, ids in carriers.items() if entry.id in ids}
    # Older versions of a carried line (near-duplicates) are the same answer filed elsewhere.
    kept = {d.number for d in export.distinct if d.number in carried and len(d.folded) >= MIN_FUZZY_LENGTH}
    for line in export.distinct:
        if line.number in carried or len(line.folded) < MIN_FUZZY_LENGTH or line.folded in (snippet_folds or set()):
            continue
        if neighbours.get(line.number, set()) & kept:
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
    carriers = line_carriers(list(faq.all_entries), export, folds)
    neighbours = near_neighbours(export)
    result = {}
    for entry in faq.all_entries:
        if only and entry.id not in only:
            continue
        declared = [s for s in entry.sources if s.startswith(prefix)]
        result[entry.id] = (declared, line_ranges(carried_line_numbers(entry, export, folds, carriers, neighbours), export.name))
    return result


def rewrite_sources(faq_path: str | Path, computed: dict[str, list[str]], export_name: str) -> int:
    """Replace each entry's export references by the computed ones, other files' references kept first.

    Written by the stable writer: the file is re-emitted in its canonical layout, so only `sources:` lines change.
    """
    from .writer import write_faq

    path = Path(faq_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    changed = 0
    for entry in data["entries"]:
        if entry["id"] not in computed:
            continue
        declared = list(entry.get("sources") or [])
        refs = [s for s in declared if not s.startswith(f"{export_name}:")] + computed[entry["id"]]
        if refs != declared:
            entry["sources"] = refs
            changed += 1
    write_faq(path, data)
    return changed
