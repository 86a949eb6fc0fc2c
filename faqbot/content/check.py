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

from .curation import LINE_IN_ANSWER, LINE_SIMILARITY, MIN_FUZZY_LENGTH, Progress, _identity, announces_list, carried_by, snippet_lines
from .export import EXPORT_NAME, PROJECT_ROOT, Export, fold
from .export import raw_line_counts as default_raw_counts
from .model import Entry, Faq, parse_faq

DEFAULT_FAQ = PROJECT_ROOT / "data" / "faq.yaml"
DEFAULT_DROPPED = PROJECT_ROOT / "data" / "dropped.yaml"

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
MAX_SLUG_LENGTH = 60
REQUIRED = ("id", "question", "variants", "answer", "category", "tags")
OPTIONAL = ("snippets", "contact_reason", "incomplete", "sources", "hidden", "review", "confirm", "aliases")
# A merged entry keeps the union of its members’ variants (every phrasing people used keeps finding it: 47 at most
# after the round-6 merges), with headroom for the queries the console’s content loop attaches to it. A single
# question stays far below (31 at most, written in five styles).
MIN_VARIANTS, MAX_VARIANTS = 3, 64

# Two answers are one answer kept twice when ≥ 92 % of their text lies in paragraphs they share (paragraph
# ratio ≥ 90). Measured on the curated FAQ (218 entries): the closest distinct answers are "suspension" vs
# "rétention" (89: same template, different document), "absent le 1er jour" vs "stage manqué" (86) and the
# answers quoting the same decree (≤ 75); one answer repeated with a typo fixed or a word added scores ≥ 95.
ANSWER_SIMILARITY = 92

VARIANT_SHORT_SIMILARITY = 95
# Share of the export's distinct lines the FAQ must carry (answers, snippets, fuller versions); the rest may be
# dropped with a reason (contradictions resolved, lists lost), but no more than 3 %.
MIN_CARRIED_PERCENT = 97.0
# Two entries probably answer the same question when their phrasings and their answers are both close:
# score = (question token_set + the two best phrasing pairs' token_sort) / 3 + answer token_set / 2.
# Measured on the FAQ before the merges of issue 10: suspension/rétention 134, handicap/illettrisme 120,
# carte expirée/carte virtuelle 119; after them the closest distinct pair ("quand" vs "pourquoi" compléter
# son dossier, "débité" vs "aucune confirmation") scores 117.
SAME_QUESTION_SCORE = 119

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


def check_schema(data: dict, contact_reasons: Iterable[str] | None, raw_line_counts: dict[str, int]) -> list[Violation]:
    """Field-level rules on the raw YAML (before typed loading, so a missing field is a message, not a crash).

    `contact_reasons`: the contact form's reason ids (faqbot.triage owns them; the caller passes them in, so this
    package never imports triage); None checks only that a `contact_reason` is a text."""
    problems: list[Violation] = []
    reasons = set(contact_reasons) if contact_reasons is not None else None
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
        if reason is not None and (not isinstance(reason, str) or (reasons is not None and reason not in reasons)):
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


def faq_categories(data: dict) -> list[dict]:
    return [c for c in data.get("categories") or [] if isinstance(c, dict) and c.get("id")]


def check_tag_case(entries: list[dict]) -> list[Violation]:
    """No two tags of the file may differ by case only (SMS/sms): one spelling per tag, acronyms in capitals."""
    spellings: dict[str, dict[str, str]] = {}
    for entry in entries:
        for tag in entry.get("tags") or []:
            if isinstance(tag, str):
                spellings.setdefault(tag.casefold(), {}).setdefault(tag, entry["id"])
    return [
        Violation("tags", ", ".join(sorted(set(found.values()))), f"étiquettes qui ne diffèrent que par la casse : {', '.join(sorted(found))}")
        for found in spellings.values()
        if len(found) > 1
    ]


def check_typography(entries: list[dict]) -> list[Violation]:
    """One typography in what visitors read: ’ for apostrophes, « » for quotes (outside link targets and code)."""
    from .writer import typography

    problems = []
    for entry in entries:
        texts = [entry.get("question"), entry.get("answer"), *(entry.get("variants") or [])]
        for text in texts:
            if isinstance(text, str) and typography(text) != text:
                problems.append(Violation("typography", entry["id"], f"apostrophes ’ et guillemets « » attendus : « {text[:80]} » (`faqbot content format --typography` corrige)"))
                break
    return problems


def same_question_pairs(entries: Iterable[Entry], threshold: float = SAME_QUESTION_SCORE) -> list[tuple[Entry, Entry, float]]:
    """Pairs of entries whose phrasings and answers are both close (see SAME_QUESTION_SCORE)."""
    entries = list(entries)
    phrasings = [[fold(e.question)] + [fold(v) for v in e.variants] for e in entries]
    # token_sort_ratio is ratio on sorted words: sort once here instead of in every comparison.
    flat = [" ".join(sorted(text.split())) for texts in phrasings for text in texts]
    owner = [k for k, texts in enumerate(phrasings) for _ in texts]
    answers = [fold(e.answer) for e in entries]
    best: dict[tuple[int, int], list[float]] = {}
    for a, text in enumerate(flat):
        # Below 60 a pair of phrasings cannot lift a pair of entries to the threshold without near-identical
        # answers, which check_duplicate_answers reports anyway.
        for _, score, b in process.extract(text, flat, scorer=fuzz.ratio, score_cutoff=60, limit=None):
            i, j = owner[a], owner[b]
            if i < j:
                best.setdefault((i, j), []).append(float(score))
    pairs = []
    for (i, j), values in best.items():
        if len(values) < 2:
            continue
        top = sorted(values, reverse=True)[:2]
        phrasing = (fuzz.token_set_ratio(phrasings[i][0], phrasings[j][0]) + sum(top)) / 3
        if phrasing + 50 < threshold:
            continue  # even identical answers (100 / 2) could not reach the threshold
        score = phrasing + fuzz.token_set_ratio(answers[i], answers[j]) / 2
        if score >= threshold:
            pairs.append((entries[i], entries[j], round(score, 1)))
    return pairs


def check_variant_overlap(entries: Iterable[Entry]) -> list[Violation]:
    """Entries answering the same question: an agent inserting a canned reply could pick conflicting ones."""
    return [
        Violation("same-question", a.id, f"semble répondre à la même question que {b.id} (score {score}) : fusionner (`aliases`) ou distinguer les questions")
        for a, b, score in same_question_pairs(entries)
    ]


# "cliquez ici" and the 🔗 marker promise a link; in the file it must be a Markdown link to a page of this product
# (/contact, /faq/<id>, /categorie/<id>) or to a platform page named by a setting ({ESPACE_STAGIAIRE_URL}).
_LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]*)\)")
_DEAD_LINK = re.compile(r"(cliqu(?:ez|ant|er) ici|🔗)", re.IGNORECASE)


def check_links(entries: list[dict], category_ids: set[str], entry_ids: set[str]) -> list[Violation]:
    """Links point somewhere real; "cliquez ici" without a link is flagged unless the entry says it is missing."""
    from .model import PLATFORM_LINKS

    known_ids = entry_ids | {alias for e in entries for alias in e.get("aliases") or [] if isinstance(alias, str)}
    problems = []
    for entry in entries:
        answer = entry["answer"]
        for match in _LINK.finditer(answer):
            target = match["target"]
            name = re.fullmatch(r"\{([A-Z_]+)\}", target)
            if name:
                if name[1] not in PLATFORM_LINKS:
                    problems.append(Violation("link", entry["id"], f"adresse inconnue {target} (connues : {', '.join(sorted(PLATFORM_LINKS))})"))
            elif target.startswith("/faq/"):
                if target.removeprefix("/faq/") not in known_ids:
                    problems.append(Violation("link", entry["id"], f"lien vers une entrée inconnue : {target}"))
            elif target.startswith("/categorie/"):
                if target.removeprefix("/categorie/") not in category_ids:
                    problems.append(Violation("link", entry["id"], f"lien vers une catégorie inconnue : {target}"))
            elif target not in ("/contact",) and not target.startswith("/contact?") and not target.startswith("https://"):
                problems.append(Violation("link", entry["id"], f"cible de lien non reconnue : {target}"))
        bare = _DEAD_LINK.search(_LINK.sub("", answer))
        if bare and not entry.get("incomplete"):
            problems.append(Violation("link", entry["id"], f"« {bare[1]} » sans lien : mettre un lien ou décrire ce qui manque dans `incomplete`"))
    return problems


def check_aliases(entries: list[dict]) -> list[Violation]:
    """A merged-away id resolves to one entry only, and is not the id of a live entry."""
    ids = {e["id"] for e in entries}
    owner: dict[str, str] = {}
    problems = []
    for entry in entries:
        for alias in entry.get("aliases") or []:
            if not isinstance(alias, str) or not SLUG.match(alias):
                problems.append(Violation("alias", entry["id"], f"alias au format slug attendu : {alias!r}"))
            elif alias in ids:
                problems.append(Violation("alias", entry["id"], f"l’alias {alias} est aussi l’id d’une entrée"))
            elif alias in owner and owner[alias] != entry["id"]:
                problems.append(Violation("alias", entry["id"], f"l’alias {alias} est déjà celui de {owner[alias]}"))
            owner.setdefault(alias, entry["id"]) if isinstance(alias, str) else None
    return problems


def check_layout(faq_path: str | Path, data: dict) -> list[Violation]:
    """The file is in the stable writer's layout, so a tool's rewrite changes only what it edits."""
    from .writer import WriterError, dump_faq, file_header

    text = Path(faq_path).read_text(encoding="utf-8")
    try:
        canonical = dump_faq(data, header=file_header(text))
    except (WriterError, TypeError, AttributeError, KeyError) as error:
        return [Violation("layout", Path(faq_path).name, f"mise en forme canonique impossible : {error}")]
    if canonical == text:
        return []
    first = next(n for n, (a, b) in enumerate(zip(canonical.splitlines() + [""], text.splitlines() + [""]), 1) if a != b)
    return [Violation("layout", f"{Path(faq_path).name}:{first}", "mise en page non canonique (ordre des entrées ou des champs, guillemets, listes) : lancez `faqbot content format`")]


def check_source_drift(faq: Faq, export: Export, carriers: dict[int, list[str]]) -> list[Violation]:
    """Declared `sources` into the export are the lines the answer really carries (re-derived, so they cannot drift)."""
    from .sources import carried_line_numbers, line_ranges, near_neighbours

    prefix = f"{export.name}:"
    folds = snippet_lines(faq)
    neighbours = near_neighbours(export)
    problems = []
    for entry in faq.all_entries:
        declared = [s for s in entry.sources if s.startswith(prefix)]
        if not declared:
            continue
        computed = line_ranges(carried_line_numbers(entry, export, folds, carriers, neighbours), export.name)
        if declared != computed:
            problems.append(Violation("source", entry.id, f"sources dérivées de l’export : {', '.join(computed) or '—'} (déclarées : {', '.join(declared)}) : lancez `faqbot content sources --write`"))
    return problems


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
    direct = dict(carriers)  # what `content sources` derives from (older versions are added below)
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
    return figures, problems, carriers, direct


def check_faq(
    faq_path: str | Path,
    export: Export,
    dropped_path: str | Path,
    contact_reasons: Iterable[str] | None = None,
    raw_line_counts: dict[str, int] | None = None,
    progress: Progress = _identity,
    via_variants: bool = True,
    min_carried_percent: float = MIN_CARRIED_PERCENT,
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
    result.violations += check_tag_case(loadable)
    result.violations += check_typography(loadable)
    result.violations += check_variant_overlap(faq.all_entries)
    result.violations += check_links(loadable, {c["id"] for c in faq_categories(data)}, {e["id"] for e in loadable})
    result.violations += check_aliases(loadable)
    result.violations += check_layout(faq_path, data)
    figures, problems, carriers, direct = check_coverage(faq, export, dropped, progress, via_variants)
    result.violations += problems
    result.carriers = carriers
    result.violations += check_source_drift(faq, export, direct)
    carried = figures["snippet_lines"] + figures["answer_lines"] + figures["variant_lines"]
    figures["carried_percent"] = round(100 * carried / len(export.distinct), 2) if export.distinct else 100.0
    if figures["carried_percent"] < min_carried_percent:
        result.violations.append(
            Violation("coverage", "export", f"{figures['carried_percent']} % des lignes distinctes portées par la FAQ (minimum {min_carried_percent} %) : trop de lignes écartées")
        )
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
