"""Analysis of the raw export for curation: duplicate lines, near-duplicate variants, answer blocks, footers.

`analyse_export` finds the structure; `render_report` writes it as Markdown a curator can work from. The
export has no separators between answers, so answer blocks are inferred from repetition: lines that always
follow each other wherever they occur (the same answer filed under several categories) form one block.
"""
from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Protocol, TypeVar

from rapidfuzz import fuzz, process

from .export import DistinctLine, Export, fold


class _HasSnippets(Protocol):
    """A loaded FAQ as far as these rules need it (model imports this module: no import back)."""

    snippets: Mapping[str, Any]

T = TypeVar("T")
Progress = Callable[[Iterable[T], str], Iterable[T]]

# Two lines are variants of one another from ratio 85 on: measured on the export, pairs at 85–99 are the same
# sentence with a word added, a typo fixed or a date updated; below 85 they say different things.
LINE_SIMILARITY = 85
# Labels such as "Important :" or "Que faire ?" are short enough to look alike by chance: they are compared
# exactly, never fuzzily.
MIN_FUZZY_LENGTH = 30
# A line is carried by an answer if its folded text is in the folded answer, or if partial_ratio reaches 90:
# one fixed typo ("votre votre", "par" → "pas") costs 2–6 points on a 40+ character line, while a line that
# is NOT in an answer scores at most ~80 against it (shared phrasing only). Shorter lines must match exactly.
LINE_IN_ANSWER = 90
# A footer is repeated after many answers: at least this many occurrences, following at least this many
# different lines (an answer repeated under six categories alone gives one predecessor).
FOOTER_MIN_OCCURRENCES = 5
FOOTER_MIN_CONTEXTS = 3
FOOTER_HUB_CONTEXTS = 5
FOOTER_LEAD_IN_SHARE = 0.6
# Blocks whose folded texts reach this ratio are probably one answer the export split differently.
BLOCK_SIMILARITY = 85
MIN_BLOCK_LENGTH = 80

# A paragraph that announces a list ("Pour cela :", "les documents suivants :", "Voici les étapes à suivre :").
LIST_ANNOUNCEMENT = re.compile(r"(?:\bpour cela|\bsuivante?s|\ba suivre|\bci dessous)$")


def announces_list(text: str) -> bool:
    """Whether a paragraph ends by announcing a list (it ends with ":" and says so)."""
    stripped = text.rstrip().rstrip("*").rstrip()
    return stripped.endswith(":") and bool(LIST_ANNOUNCEMENT.search(fold(stripped)))


def _identity(iterable: Iterable[T], label: str) -> Iterable[T]:
    return iterable


@dataclass(frozen=True)
class VariantGroup:
    """Distinct lines that are near-duplicates of one another; `fuller` is the one to keep."""

    members: tuple[DistinctLine, ...]
    scores: dict[tuple[int, int], float]

    @property
    def fuller(self) -> DistinctLine:
        # Fuller = more words; on a tie the later version (the export's newest wording comes later).
        return max(self.members, key=lambda d: (len(d.folded.split()), len(d.text), d.line_numbers[0]))


@dataclass(frozen=True)
class Footer:
    line: DistinctLine
    occurrences: int
    predecessors: int  # distinct lines it follows
    kind: str  # "pivot" (follows many answers), "suite" (always continues a footer), "amorce" (leads into one)


@dataclass(frozen=True)
class Block:
    """Lines that always appear together, in this order; one inferred answer (or part of one)."""

    number: int
    starts: tuple[int, ...]  # line number of each occurrence's first line
    length: int
    versions: dict[int, tuple[DistinctLine, ...]]  # start → the distinct lines of that occurrence

    @property
    def fuller_start(self) -> int:
        return max(
            self.starts,
            key=lambda s: (sum(len(d.folded.split()) for d in self.versions[s]), s),
        )

    def ranges(self) -> list[str]:
        return [f"L{s}" if self.length == 1 else f"L{s}-{s + self.length - 1}" for s in self.starts]

    @property
    def has_variants(self) -> bool:
        return len({tuple(d.number for d in v) for v in self.versions.values()}) > 1


@dataclass
class ExportReport:
    export: Export
    group_of: dict[int, int]  # distinct number → group representative
    variant_groups: list[VariantGroup]
    footers: list[Footer]
    blocks: list[Block]
    similar_blocks: list[tuple[int, int, float]] = field(default_factory=list)
    lost_lists: list[int] = field(default_factory=list)  # line numbers announcing a list that is not there

    @property
    def exact_duplicate_lines(self) -> int:
        """Distinct lines that occur more than once."""
        return sum(1 for d in self.export.distinct if len(d.line_numbers) > 1)

    @property
    def repeated_blocks(self) -> list[Block]:
        return [b for b in self.blocks if len(b.starts) > 1]

    def summary(self) -> dict[str, int]:
        export = self.export
        return {
            "lines": export.raw_line_count,
            "non_empty_lines": export.non_empty_line_count,
            "distinct_lines": len(export.distinct),
            "lines_repeated_exactly": self.exact_duplicate_lines,
            "near_duplicate_groups": len(self.variant_groups),
            "lines_in_near_duplicate_groups": sum(len(g.members) for g in self.variant_groups),
            "footers": len(self.footers),
            "blocks": len(self.blocks),
            "repeated_blocks": len(self.repeated_blocks),
            "blocks_with_variants": sum(1 for b in self.blocks if b.has_variants),
            "similar_block_pairs": len(self.similar_blocks),
            "lost_lists": len(self.lost_lists),
        }


def near_duplicate_pairs(
    lines: list[DistinctLine], progress: Progress = _identity, threshold: float = LINE_SIMILARITY
) -> dict[tuple[int, int], float]:
    """Pairs (i, j), i < j, of distinct lines whose folded texts reach `threshold` (rapidfuzz ratio)."""
    candidates = [d for d in lines if len(d.folded) >= MIN_FUZZY_LENGTH]
    choices = [d.folded for d in candidates]
    pairs: dict[tuple[int, int], float] = {}
    for index, line in enumerate(progress(candidates, "Quasi-doublons de lignes")):
        for _, score, other in process.extract(
            line.folded, choices, scorer=fuzz.ratio, score_cutoff=threshold, limit=None
        ):
            if other > index:
                pairs[(line.number, candidates[other].number)] = round(score, 1)
    # Lines that differ only by punctuation, emoji or accents fold to the same text: variants too.
    by_fold: dict[str, list[DistinctLine]] = defaultdict(list)
    for line in lines:
        by_fold[line.folded].append(line)
    for same in by_fold.values():
        for a in same:
            for b in same:
                if a.number < b.number:
                    pairs[(a.number, b.number)] = 100.0
    return pairs


def _groups(numbers: Iterable[int], pairs: dict[tuple[int, int], float]) -> dict[int, int]:
    parent = {n: n for n in numbers}

    def find(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {n: find(n) for n in parent}


def _find_footers(node: list[int], distinct_of: list[DistinctLine]) -> list[Footer]:
    """Lines repeated after many different answers (sign-up footers), on exact distinct lines.

    Measured on the export, a footer run is: a hub line that follows many different answers and is followed
    by several lines (the confirmation footer); the lines that only ever continue it; and the invitation lines
    that lead into it from at least three different answers. Lead-ins are taken one step back only: a line
    that leads into a lead-in ("Pour suivre un stage, il faut vous réinscrire…") is the answer's own text.
    Footers are found on exact lines, not near-duplicate groups: the invitations differ by a few words and
    are different snippets.
    """
    predecessors: dict[int, set[int]] = defaultdict(set)
    successors: dict[int, set[int]] = defaultdict(set)
    count: dict[int, int] = defaultdict(int)
    for i, n in enumerate(node):
        count[n] += 1
        predecessors[n].add(node[i - 1] if i else -1)
        successors[n].add(node[i + 1] if i + 1 < len(node) else -1)
    frequent = {n for n, c in count.items() if c >= FOOTER_MIN_OCCURRENCES}
    hubs = {n for n in frequent if len(predecessors[n]) >= FOOTER_HUB_CONTEXTS and len(successors[n]) >= FOOTER_MIN_CONTEXTS}
    core = set(hubs)
    changed = True
    while changed:  # continuations: only ever after a footer line, then many different lines
        changed = False
        for n in frequent - core:
            if predecessors[n] <= core and len(successors[n]) >= FOOTER_MIN_CONTEXTS:
                core.add(n)
                changed = True
    into_core: dict[int, int] = defaultdict(int)
    for i in range(len(node) - 1):
        if node[i + 1] in core:
            into_core[node[i]] += 1
    # Most occurrences lead into the footer: the invitation is sometimes followed by a rarer footer variant.
    lead_ins = {
        n
        for n in frequent - core
        if into_core[n] >= FOOTER_LEAD_IN_SHARE * count[n] and len(predecessors[n]) >= FOOTER_MIN_CONTEXTS
    }
    footer = core | lead_ins
    first_index = {}
    for i, n in enumerate(node):
        first_index.setdefault(n, i)
    return [
        Footer(
            line=distinct_of[first_index[n]],
            occurrences=count[n],
            predecessors=len(predecessors[n] - {-1}),
            kind="pivot" if n in hubs else ("suite" if n in core else "amorce"),
        )
        for n in sorted(footer, key=lambda n: first_index[n])
    ]


def _blocks(node: list[int], distinct_of: list[DistinctLine], is_footer: set[int]) -> list[Block]:
    """Maximal runs of lines that always follow each other (footers cut runs)."""
    size = len(node)
    successors: dict[int, set[int]] = defaultdict(set)
    predecessors: dict[int, set[int]] = defaultdict(set)
    for i, n in enumerate(node):
        if n in is_footer:
            continue
        prev = node[i - 1] if i and node[i - 1] not in is_footer else -1
        nxt = node[i + 1] if i + 1 < size and node[i + 1] not in is_footer else -1
        predecessors[n].add(prev)
        successors[n].add(nxt)

    def chained(i: int) -> bool:
        """Whether line i continues line i-1's block."""
        if i == 0 or node[i - 1] in is_footer or node[i] in is_footer:
            return False
        a, b = node[i - 1], node[i]
        return successors[a] == {b} and predecessors[b] == {a} and a != b

    blocks: dict[tuple[int, ...], list[int]] = {}
    i = 0
    while i < size:
        if node[i] in is_footer:
            i += 1
            continue
        j = i + 1
        while j < size and chained(j):
            j += 1
        blocks.setdefault(tuple(node[i:j]), []).append(i)
        i = j
    result = []
    for number, (key, starts) in enumerate(sorted(blocks.items(), key=lambda kv: kv[1][0])):
        versions = {s + 1: tuple(distinct_of[s : s + len(key)]) for s in starts}
        result.append(Block(number=number, starts=tuple(s + 1 for s in starts), length=len(key), versions=versions))
    return result


def analyse_export(export: Export, progress: Progress = _identity) -> ExportReport:
    """Group the export's duplicate and near-duplicate lines, infer answer blocks, find footers and lost lists."""
    distinct = list(export.distinct)
    pairs = near_duplicate_pairs(distinct, progress)
    group_of = _groups((d.number for d in distinct), pairs)
    members: dict[int, list[DistinctLine]] = defaultdict(list)
    for d in distinct:
        members[group_of[d.number]].append(d)
    variant_groups = [
        VariantGroup(
            members=tuple(group),
            scores={k: v for k, v in pairs.items() if group_of[k[0]] == group_of[group[0].number]},
        )
        for group in members.values()
        if len(group) > 1
    ]
    distinct_of = [export.distinct_by_line[n] for n in range(1, len(export.lines) + 1) if export.lines[n - 1]]
    numbers = [n for n in range(1, len(export.lines) + 1) if export.lines[n - 1]]
    if len(numbers) != len(export.lines):
        # Empty lines would break the position arithmetic below; the export has none, keep it that way.
        raise ValueError("the export contains empty lines; blocks assume one paragraph per line")
    footers = _find_footers([d.number for d in distinct_of], distinct_of)
    node = [group_of[d.number] for d in distinct_of]
    footer_nodes = {group_of[f.line.number] for f in footers}
    blocks = _blocks(node, distinct_of, footer_nodes)

    similar: list[tuple[int, int, float]] = []
    texts = {b.number: fold(" ".join(d.text for d in b.versions[b.fuller_start])) for b in blocks}
    long_blocks = [b for b in blocks if len(texts[b.number]) >= MIN_BLOCK_LENGTH]
    choices = [texts[b.number] for b in long_blocks]
    for index, block in enumerate(progress(long_blocks, "Quasi-doublons de blocs")):
        for _, score, other in process.extract(
            texts[block.number], choices, scorer=fuzz.ratio, score_cutoff=BLOCK_SIMILARITY, limit=None
        ):
            if other > index:
                similar.append((block.number, long_blocks[other].number, round(score, 1)))

    lost = []
    for number, line in enumerate(export.lines, start=1):
        if announces_list(line):
            following = export.lines[number] if number < len(export.lines) else ""
            if not following or not _looks_like_item(following):
                lost.append(number)
    return ExportReport(
        export=export,
        group_of=group_of,
        variant_groups=sorted(variant_groups, key=lambda g: g.members[0].number),
        footers=footers,
        blocks=blocks,
        similar_blocks=similar,
        lost_lists=lost,
    )


_ITEM = re.compile(r"^(?:[✅✔•–\-*]|\d+\s*[.)]|\d\ufe0f?\u20e3)")


def _looks_like_item(line: str) -> bool:
    return bool(_ITEM.match(line.strip()))


# ---------------------------------------------------------------- Markdown report


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def word_diff(old: str, new: str) -> str:
    """`new` with words absent from `old` in bold and words of `old` it lacks struck through."""
    a, b = old.split(), new.split()
    out: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.extend(b[j1:j2])
            continue
        if i2 > i1:
            out.append("~~" + " ".join(a[i1:i2]) + "~~")
        if j2 > j1:
            out.append("**" + " ".join(b[j1:j2]) + "**")
    return " ".join(out)


def _lines_label(d: DistinctLine, shown: int = 8) -> str:
    labels = [f"L{n}" for n in d.line_numbers[:shown]]
    if len(d.line_numbers) > shown:
        labels.append(f"… ({len(d.line_numbers)} occurrences)")
    return ", ".join(labels)


def render_report(report: ExportReport, known_snippets: dict[str, str] | None = None) -> str:
    """The Markdown report: figures, footers, near-duplicate variants side by side, blocks, lost lists."""
    export = report.export
    snippet_by_fold: dict[str, list[str]] = defaultdict(list)  # a paragraph may open several snippets
    for sid, text in (known_snippets or {}).items():
        for part in text.split("\n"):
            if part.strip():
                snippet_by_fold[fold(part)].append(sid)
    summary = report.summary()
    out = [
        f"# Import de l’export `{export.name}`",
        "",
        "Rapport de curation produit par `faqbot content import`. Numéros de ligne = lignes du fichier brut ;",
        "D<k> = k-ième ligne distincte (normalisée : NFC, espaces), dans l’ordre de première apparition.",
        "",
        "## Chiffres",
        "",
        "| mesure | valeur |",
        "|---|---|",
        f"| lignes lues | {summary['lines']} |",
        f"| lignes non vides | {summary['non_empty_lines']} |",
        f"| lignes distinctes | {summary['distinct_lines']} |",
        f"| lignes distinctes répétées à l’identique | {summary['lines_repeated_exactly']} |",
        f"| groupes de quasi-doublons (ratio ≥ {LINE_SIMILARITY}) | {summary['near_duplicate_groups']} "
        f"({summary['lines_in_near_duplicate_groups']} lignes) |",
        f"| pieds de page répétés | {summary['footers']} |",
        f"| blocs de réponse déduits | {summary['blocks']} (dont {summary['repeated_blocks']} répétés, "
        f"{summary['blocks_with_variants']} avec des variantes) |",
        f"| paires de blocs quasi identiques | {summary['similar_block_pairs']} |",
        f"| listes annoncées mais absentes | {summary['lost_lists']} |",
        "",
        "## Pieds de page répétés",
        "",
        "Lignes répétées après de nombreuses réponses : à factoriser en extraits partagés (`snippets`).",
        "",
        "| D | rôle | occurrences | lignes précédentes distinctes | extrait connu | texte |",
        "|---|---|---|---|---|---|",
    ]
    for f in report.footers:
        known = ", ".join(snippet_by_fold.get(f.line.folded, [])) or "—"
        out.append(
            f"| {f.line.label} | {f.kind} | {f.occurrences} | {f.predecessors} | {known} | {_cell(f.line.text)} |"
        )
    out += [
        "",
        "## Quasi-doublons de lignes",
        "",
        "Pour chaque groupe : les variantes côte à côte, ★ = la plus complète (à garder) ; dans les autres, "
        "**gras** = mots que la version ★ ajoute, ~~barré~~ = mots qu’elle n’a plus.",
        "",
    ]
    for k, group in enumerate(report.variant_groups, start=1):
        fuller = group.fuller
        out += [f"### Groupe {k} — {', '.join(m.label for m in group.members)}", "", "| | D | lignes | mots | texte |", "|---|---|---|---|---|"]
        for member in group.members:
            star = "★" if member is fuller else ""
            text = member.text if member is fuller else word_diff(member.text, fuller.text)
            out.append(
                f"| {star} | {member.label} | {_lines_label(member)} | {len(member.folded.split())} | {_cell(text)} |"
            )
        out.append("")
    out += [
        "## Blocs de réponse",
        "",
        "Lignes qui se suivent toujours dans le même ordre partout où elles apparaissent (les pieds de page "
        "coupent les blocs). Un bloc est en général une réponse, parfois une partie de réponse ou deux réponses "
        "voisines jamais répétées. ★ = l’occurrence la plus complète.",
        "",
    ]
    lost = set(report.lost_lists)
    for block in report.blocks:
        fuller = block.fuller_start
        title = f"### B{block.number} — {', '.join(block.ranges())}"
        if len(block.starts) > 1:
            title += f" ({len(block.starts)}×)"
        out += [title, ""]
        for offset, line in enumerate(block.versions[fuller]):
            marker = " ⚠ liste annoncée absente" if fuller + offset in lost else ""
            out.append(f"- `L{fuller + offset}` {line.label} {line.text}{marker}")
        if block.has_variants:
            out += ["", "Variantes par occurrence :", ""]
            for start in block.starts:
                if start == fuller:
                    continue
                for offset, (mine, best) in enumerate(zip(block.versions[start], block.versions[fuller])):
                    if mine.number != best.number:
                        out.append(
                            f"- `L{start + offset}` {mine.label} vs ★ `L{fuller + offset}` {best.label} : "
                            f"{word_diff(mine.text, best.text)}"
                        )
        out.append("")
    if report.similar_blocks:
        out += ["## Blocs quasi identiques", "", "| bloc | bloc | ratio |", "|---|---|---|"]
        for a, b, score in report.similar_blocks:
            out.append(f"| B{a} ({', '.join(report.blocks[a].ranges())}) | B{b} ({', '.join(report.blocks[b].ranges())}) | {score} |")
        out.append("")
    out += ["## Listes annoncées mais absentes", "", "Ces réponses devront porter `incomplete:`.", ""]
    for number in report.lost_lists:
        out.append(f"- `L{number}` {export.lines[number - 1]}")
    out.append("")
    return "\n".join(out)


def snippet_lines(faq: _HasSnippets) -> set[str]:
    """Folded paragraphs of the shared snippets: export lines equal to one of them are carried by the snippet."""
    return {fold(part) for s in faq.snippets.values() for part in re.split(r"\n\s*\n", s.text) if part.strip()}


def carried_by(line: DistinctLine, answers: list[tuple[str, str]]) -> list[str]:
    """Ids of the entries whose folded answer carries the line (containment, or partial_ratio for typo fixes)."""
    needle = line.folded
    if not needle:
        return []
    padded = f" {needle} "
    exact = [entry_id for entry_id, text in answers if padded in text]
    if exact or len(needle) < MIN_FUZZY_LENGTH:
        return exact
    # partial_ratio aligns the shorter string inside the longer: only answers at least as long as the line
    # may carry it, or a short answer would "carry" any long line that contains it.
    candidates = [(entry_id, text) for entry_id, text in answers if len(text) >= len(needle)]
    return [
        candidates[index][0]
        for _, _, index in process.extract(
            needle, [t for _, t in candidates], scorer=fuzz.partial_ratio, score_cutoff=LINE_IN_ANSWER, limit=None
        )
    ]
