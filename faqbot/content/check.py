"""`faqbot content check`: the FAQ file against its schema, itself and the export it was curated from.

Checks: schema (required fields, question ends with "?", 3–6 variants, known category, tags), unique slug ids,
no two entries with near-duplicate answers, known contact reasons, resolved snippets, well-formed `sources`,
announced-but-missing lists flagged `incomplete`, and coverage — every distinct line of the export is carried
by a snippet, by an entry's answer, or listed in data/dropped.yaml with a reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import yaml
from rapidfuzz import fuzz, process

from ..triage.reasons import REASONS_BY_ID
from .curation import LINE_SIMILARITY, MIN_FUZZY_LENGTH, Progress, _identity, announces_list
from .export import EXPORT_NAME, PROJECT_ROOT, DistinctLine, Export, fold
from .export import raw_line_counts as default_raw_counts
from .model import Entry, Faq, parse_faq

DEFAULT_FAQ = PROJECT_ROOT / "data" / "faq.yaml"
DEFAULT_DROPPED = PROJECT_ROOT / "data" / "dropped.yaml"

# The contact form's reasons: faqbot.triage owns them (reasons are data there).
CONTACT_REASONS: tuple[str, ...] = tuple(REASONS_BY_ID)

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
MAX_SLUG_LENGTH = 60
REQUIRED = ("id", "question", "variants", "answer", "category", "tags")
OPTIONAL = ("snippets", "contact_reason", "incomplete", "sources", "hidden", "review", "confirm", "aliases")
# A merged entry keeps the union of its members' variants (every phrasing people used keeps finding it).
MIN_VARIANTS, MAX_VARIANTS = 3, 16

# Two answers are one answer kept twice when ≥ 92 % of their text lies in paragraphs they share (paragraph
# ratio ≥ 90). Measured on the curated FAQ (218 entries): the closest distinct answers are "suspension" vs
# "rétention" (89: same template, different document), "absent le 1er jour" vs "stage manqué" (86) and the
# answers quoting the same decree (≤ 75); one answer repeated with a typo fixed or a word added scores ≥ 95.
ANSWER_SIMILARITY = 92
# A line is carried by an answer if its folded text is in the folded answer, or if partial_ratio reaches 90:
# one fixed typo ("votre votre", "par" → "pas") costs 2–6 points on a 40+ character line, while a line that
# is NOT in an answer scores at most ~80 against it (shared phrasing only). Shorter lines must match exactly.
LINE_IN_ANSWER = 90

VARIANT_SHORT_SIMILARITY = 95

SOURCE_REF = re.compile(r"^(?P<file>[0-9]{3}_[0-9a-f]{16}\.txt):(?P<start>[1-9][0-9]*)(?:-(?P<end>[1-9][0-9]*))?$")


@dataclass(frozen=True)
class Violation:
    kind: str  # schema, id, duplicate-answer, contact-reason, snippet, source, incomplete, coverage, dropped
    where: str  # entry id, "L12" line of the export, or the file
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.where} : {self.message}"


@dataclass(frozen=True)
class DroppedLine:
    text: str
    reason: str


@dataclass
class CheckResult:
    figures: dict[str, float | int] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    # line number → ids of the entries carrying that distinct line (every occurrence has the same answer)
    carriers: dict[int, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations


# ---------------------------------------------------------------- loading


def load_dropped(path: str | Path) -> tuple[list[DroppedLine], list[Violation]]:
    """data/dropped.yaml: a list of `{text: "<the export line>", reason: "<French reason>"}` (missing = empty)."""
    path = Path(path)
    if not path.exists():
        return [], []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        return [], [Violation("dropped", path.name, f"YAML invalide : {error}")]
    if data is None:
        return [], []
    if isinstance(data, dict) and "dropped" in data:  # tolerated: the curation parts used a `dropped:` key
        data = data["dropped"] or []
    if not isinstance(data, list):
        return [], [Violation("dropped", path.name, "doit être une liste de {text, reason}")]
    dropped, problems = [], []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item.get("text", "").strip():
            problems.append(Violation("dropped", f"{path.name}[{index}]", "élément sans `text`"))
            continue
        if not isinstance(item.get("reason"), str) or not item["reason"].strip():
            problems.append(Violation("dropped", f"{path.name}[{index}]", "élément sans `reason` (raison en français)"))
            continue
        dropped.append(DroppedLine(text=item["text"], reason=item["reason"]))
    return dropped, problems


def load_faq_data(path: str | Path) -> tuple[dict | None, list[Violation]]:
    """The parsed YAML, or a violation saying where the file is not valid YAML."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        return None, [Violation("schema", Path(path).name, f"YAML invalide : {' '.join(str(error).split())}")]
    if not isinstance(data, dict):
        return None, [Violation("schema", Path(path).name, "le fichier doit être un mapping (categories, snippets, entries)")]
    return data, []


# ---------------------------------------------------------------- schema


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item.strip() for item in value)


def check_schema(data: dict, contact_reasons: Iterable[str], raw_line_counts: dict[str, int]) -> list[Violation]:
    """Field-level rules on the raw YAML (before typed loading, so a missing field is a message, not a crash)."""
    problems: list[Violation] = []
    reasons = set(contact_reasons)
    categories = data.get("categories")
    snippets = data.get("snippets")
    entries = data.get("entries")
    if not isinstance(categories, list) or not all(isinstance(c, dict) and c.get("id") and c.get("label") for c in categories):
        problems.append(Violation("schema", "categories", "liste de {id, label} attendue"))
        categories = []
    if not isinstance(snippets or [], list) or not all(isinstance(s, dict) and s.get("id") and s.get("text") for s in snippets or []):
        problems.append(Violation("schema", "snippets", "liste de {id, text} attendue"))
        snippets = []
    if not isinstance(entries, list) or not entries:
        return problems + [Violation("schema", "entries", "liste d’entrées attendue")]
    category_ids = {c["id"] for c in categories}
    snippet_ids = {s["id"] for s in snippets or []}
    seen_ids: dict[str, int] = {}
    seen_variants: dict[str, str] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(Violation("schema", f"entrée n°{index + 1}", "mapping attendu"))
            continue
        where = str(entry.get("id") or f"entrée n°{index + 1}")
        for key in REQUIRED:
            if key not in entry or entry[key] in (None, "", []):
                problems.append(Violation("schema", where, f"champ obligatoire manquant : {key}"))
        for key in entry:
            if key not in REQUIRED and key not in OPTIONAL:
                problems.append(Violation("schema", where, f"champ inconnu : {key}"))
        entry_id = entry.get("id")
        if isinstance(entry_id, str):
            if not SLUG.match(entry_id) or len(entry_id) > MAX_SLUG_LENGTH:
                problems.append(
                    Violation("id", where, "id au format slug attendu (minuscules ascii, mots séparés par « - », ≥ 2 mots)")
                )
            if entry_id in seen_ids:
                problems.append(Violation("id", where, f"id en double (entrées n°{seen_ids[entry_id] + 1} et n°{index + 1})"))
            seen_ids.setdefault(entry_id, index)
        question = entry.get("question")
        if question is not None and (not isinstance(question, str) or not question.strip().endswith("?")):
            problems.append(Violation("schema", where, "la question doit se terminer par « ? »"))
        variants = entry.get("variants")
        if variants is not None:
            if not _is_str_list(variants):
                problems.append(Violation("schema", where, "variants : liste de textes attendue"))
            else:
                if not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
                    problems.append(
                        Violation("schema", where, f"{len(variants)} variantes (entre {MIN_VARIANTS} et {MAX_VARIANTS} attendues)")
                    )
                folded = [fold(v) for v in variants]
                if len(set(folded)) != len(folded) or (isinstance(question, str) and fold(question) in folded):
                    problems.append(Violation("schema", where, "variantes répétées (ou identiques à la question)"))
                for text in folded:
                    other = seen_variants.setdefault(text, where)
                    if other != where:
                        problems.append(Violation("schema", where, f"variante « {text} » déjà utilisée par {other}"))
        answer = entry.get("answer")
        if answer is not None and not isinstance(answer, str):
            problems.append(Violation("schema", where, "answer : texte Markdown attendu"))
        category = entry.get("category")
        if category is not None and category not in category_ids:
            problems.append(Violation("schema", where, f"catégorie inconnue : {category}"))
        tags = entry.get("tags")
        if tags is not None and not _is_str_list(tags):
            problems.append(Violation("schema", where, "tags : liste de mots-clés attendue"))
        reason = entry.get("contact_reason")
        if reason is not None and reason not in reasons:
            problems.append(Violation("contact-reason", where, f"motif de contact inconnu : {reason}"))
        entry_snippets = entry.get("snippets")
        if entry_snippets is not None:
            if not _is_str_list(entry_snippets):
                problems.append(Violation("schema", where, "snippets : liste d’ids attendue"))
            else:
                for snippet in entry_snippets:
                    if snippet not in snippet_ids:
                        problems.append(Violation("snippet", where, f"extrait inconnu : {snippet}"))
        incomplete = entry.get("incomplete")
        if incomplete is not None and (not isinstance(incomplete, str) or not incomplete.strip()):
            problems.append(Violation("schema", where, "incomplete : texte expliquant ce qui manque attendu"))
        sources = entry.get("sources")
        if sources is not None:
            if not _is_str_list(sources):
                problems.append(Violation("source", where, "sources : liste de références « fichier:L » ou « fichier:A-B »"))
            else:
                problems += [Violation("source", where, m) for s in sources if (m := source_problem(s, raw_line_counts))]
    return problems


def source_problem(reference: str, raw_line_counts: dict[str, int]) -> str | None:
    """Why a `sources` reference is not "<raw file>:L" or "<raw file>:A-B" inside that file (None if it is)."""
    match = SOURCE_REF.match(reference.strip())
    if not match:
        return f"référence mal formée : {reference!r} (attendu « {EXPORT_NAME}:12 » ou « {EXPORT_NAME}:12-15 »)"
    name = match["file"]
    if name not in raw_line_counts:
        return f"fichier inconnu dans data/raw : {name}"
    start = int(match["start"])
    end = int(match["end"] or start)
    if end < start:
        return f"intervalle à l’envers : {reference}"
    if end > raw_line_counts[name]:
        return f"{reference} dépasse la fin du fichier ({raw_line_counts[name]} lignes)"
    return None


# ---------------------------------------------------------------- meaning


def _paragraphs(markdown: str) -> list[str]:
    return [f for f in (fold(p) for p in re.split(r"\n\s*\n", markdown)) if f]


def shared_share(a: list[str], b: list[str]) -> float:
    """Percentage of two answers' text that lies in paragraphs they share (paragraph ratio ≥ LINE_IN_ANSWER)."""

    def matched(mine: list[str], theirs: list[str]) -> int:
        return sum(len(p) for p in mine if process.extractOne(p, theirs, scorer=fuzz.ratio, score_cutoff=LINE_IN_ANSWER))

    total = sum(map(len, a)) + sum(map(len, b))
    return 100 * (matched(a, b) + matched(b, a)) / total if total else 0.0


def check_duplicate_answers(entries: Iterable[Entry], threshold: float = ANSWER_SIMILARITY) -> list[Violation]:
    """Pairs of entries whose answers are one answer kept twice: nearly all their text in shared paragraphs.

    Whole-text scores (token_sort_ratio) flag distinct answers built on one template — the three
    "accompagnement" answers quoting the same decree score 93–94 — so paragraphs are compared instead; the
    cheap token_set_ratio pre-filter only picks the pairs worth comparing.
    """
    entries = list(entries)
    paragraphs = [_paragraphs(e.answer) for e in entries]
    texts = [" ".join(p) for p in paragraphs]
    problems = []
    for i, entry in enumerate(entries):
        for _, _, j in process.extract(texts[i], texts, scorer=fuzz.token_set_ratio, score_cutoff=80, limit=None):
            if j > i and (share := shared_share(paragraphs[i], paragraphs[j])) >= threshold:
                problems.append(
                    Violation(
                        "duplicate-answer",
                        entry.id,
                        f"réponse quasi identique à celle de {entries[j].id} ({share:.0f} % du texte en paragraphes communs)",
                    )
                )
    return problems


def missing_list(answer: str) -> str | None:
    """The paragraph announcing a list that the answer does not have (at the end, or followed by prose)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", answer.strip()) if p.strip()]
    for index, paragraph in enumerate(paragraphs):
        last_line = paragraph.splitlines()[-1]
        if not announces_list(last_line):
            continue
        if len(paragraph.splitlines()) > 1 and _is_list_line(paragraph.splitlines()[1]):
            continue  # "Pour cela :" directly followed by its list in the same block
        following = paragraphs[index + 1] if index + 1 < len(paragraphs) else ""
        if not following or not _is_list_line(following.splitlines()[0]):
            return last_line
    return None


def _is_list_line(line: str) -> bool:
    return bool(re.match(r"^\s*(?:[-*+]|\d+[.)])\s+", line))


def check_incomplete(entries: Iterable[Entry]) -> list[Violation]:
    return [
        Violation("incomplete", e.id, f"annonce une liste absente (« {announced.strip('* ')} ») sans `incomplete:`")
        for e in entries
        if not e.incomplete and (announced := missing_list(e.answer))
    ]


def snippet_lines(faq: Faq) -> set[str]:
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


def check_coverage(
    faq: Faq,
    export: Export,
    dropped: list[DroppedLine],
    progress: Progress = _identity,
    via_variants: bool = True,
) -> tuple[dict[str, float | int], list[Violation], dict[int, list[str]]]:
    """Every distinct export line is carried by a snippet, an answer, or dropped.yaml (with a reason).

    With `via_variants`, an older near-duplicate version of a carried line counts as carried: the curation
    kept the fuller wording once (that is the point), and the figures say how many lines were covered so.
    """
    answers = [(e.id, f" {fold(e.answer)} ") for e in faq.all_entries]
    by_snippet = snippet_lines(faq)
    dropped_by_fold = {fold(d.text): d for d in dropped}
    carriers: dict[int, list[str]] = {}
    status: dict[int, str] = {}
    for line in progress(export.distinct, "Couverture de l’export"):
        if line.folded in by_snippet:
            status[line.number] = "snippet"
            continue
        found = carried_by(line, answers)
        if found:
            carriers[line.number] = found
            status[line.number] = "answer"
        elif line.folded in dropped_by_fold:
            status[line.number] = "dropped"
        else:
            status[line.number] = "missing"
    if via_variants:
        kept = [d for d in export.distinct if status[d.number] in ("answer", "snippet")]
        kept_texts = [d.folded for d in kept]
        for line in export.distinct:
            if status[line.number] != "missing":
                continue
            # Short lines need a closer match ("agréé" → "agréée"), as labels look alike by chance.
            cutoff = LINE_SIMILARITY if len(line.folded) >= MIN_FUZZY_LENGTH else VARIANT_SHORT_SIMILARITY
            best = process.extractOne(line.folded, kept_texts, scorer=fuzz.ratio, score_cutoff=cutoff)
            if best:
                status[line.number] = "variant"
                carriers[line.number] = carriers.get(kept[best[2]].number, [])
    problems = []
    for line in export.distinct:
        if status[line.number] == "missing":
            where = ", ".join(f"L{n}" for n in line.line_numbers[:6])
            problems.append(
                Violation("coverage", f"{line.label} ({where})", f"ligne portée par aucune réponse ni dropped.yaml : {line.text[:140]}")
            )
    export_folds = {d.folded for d in export.distinct}
    for item in dropped:
        if fold(item.text) not in export_folds:
            problems.append(Violation("dropped", "dropped.yaml", f"texte absent de l’export : {item.text[:100]}"))
    counts = {kind: sum(1 for s in status.values() if s == kind) for kind in ("snippet", "answer", "variant", "dropped", "missing")}
    accounted = len(export.distinct) - counts["missing"]
    figures = {
        "snippet_lines": counts["snippet"],
        "answer_lines": counts["answer"],
        "variant_lines": counts["variant"],
        "dropped_lines": counts["dropped"],
        "uncovered_lines": counts["missing"],
        "coverage_percent": round(100 * accounted / len(export.distinct), 2) if export.distinct else 100.0,
    }
    return figures, problems, carriers


def check_faq(
    faq_path: str | Path,
    export: Export,
    dropped_path: str | Path,
    contact_reasons: Iterable[str] = CONTACT_REASONS,
    raw_line_counts: dict[str, int] | None = None,
    progress: Progress = _identity,
    via_variants: bool = True,
) -> CheckResult:
    """Run every check; the result holds the figures, the violations and which entries carry which lines."""
    result = CheckResult()
    result.figures["lines"] = export.raw_line_count
    result.figures["distinct_lines"] = len(export.distinct)
    data, problems = load_faq_data(faq_path)
    result.violations += problems
    if data is None:
        return result
    counts = raw_line_counts if raw_line_counts is not None else {**default_raw_counts(), export.name: export.raw_line_count}
    result.violations += check_schema(data, contact_reasons, counts)
    dropped, problems = load_dropped(dropped_path)
    result.violations += problems
    # Typed checks run on the entries complete enough to load; the schema violations already name the others.
    loadable = [e for e in data.get("entries") or [] if isinstance(e, dict) and all(isinstance(e.get(k), str) for k in ("id", "question", "answer", "category"))]
    faq = parse_faq({**data, "entries": loadable, "snippets": [s for s in data.get("snippets") or [] if isinstance(s, dict) and s.get("id") and isinstance(s.get("text"), str)], "categories": [c for c in data.get("categories") or [] if isinstance(c, dict) and c.get("id") and c.get("label")]})
    result.violations += check_duplicate_answers(faq.all_entries)
    result.violations += check_incomplete(faq.all_entries)
    figures, problems, carriers = check_coverage(faq, export, dropped, progress, via_variants)
    result.violations += problems
    result.carriers = carriers
    result.figures.update(
        {
            "entries": len(faq.all_entries),
            "hidden_entries": len(faq.hidden),
            **figures,
            "dropped": len(dropped),
            "incomplete_entries": sum(1 for e in faq.all_entries if e.incomplete),
        }
    )
    return result
