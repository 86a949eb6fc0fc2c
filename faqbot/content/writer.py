"""The stable writer of data/faq.yaml: one canonical layout, so a tool's rewrite changes only what it edits.

Layout: header comments, `version`, categories, snippets, then the entries grouped by category (in the order
of `categories`, each group under a comment naming it, entries keeping their relative order); fields in a fixed
order; answers and multi-line texts as literal blocks; variants as block lists; tags, aliases and sources as
flow lists wrapped at 110 columns. Also the typography and tag rules the file follows, and the merge of
entries answering one question.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

import yaml

from .export import fold

ENTRY_FIELDS = (
    "id", "question", "variants", "answer", "category", "tags", "snippets", "contact_reason",
    "incomplete", "hidden", "confirm", "review", "aliases", "sources",
)
FLOW_FIELDS = ("tags", "snippets", "aliases", "sources")
BLOCK_LIST_FIELDS = ("variants",)
WIDTH = 110
DEFAULT_HEADER = (
    "# FAQ de la plateforme de réservation de stages de récupération de points.\n"
    "# Réponses : formulation officielle de la plateforme (export data/raw/000_…, articles 001_… et 004_…),\n"
    "# dédoublonnées ; questions et variantes écrites à partir des réponses. `faqbot content check` valide ce fichier.\n"
    "# Écrit par `faqbot content format` / `faqbot content export` : entrées groupées par catégorie, champs dans\n"
    "# un ordre fixe. Règles de rédaction : README, « Le contenu ».\n"
)


# libyaml's loader (as in model.py): the writer re-reads every text it emits, and the whole file once.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Words, spaces and punctuation that never change a plain scalar's meaning in YAML: no parsing needed.
_SAFE_PLAIN = re.compile(r"[^\W\d_][\w \u2019'’«»().,;!?/+%€°-]*", re.UNICODE)


class WriterError(ValueError):
    """The canonical text would not load back as the same data: nothing is written."""


# ---------------------------------------------------------------- scalars


def _loads_as(text: str, value: Any) -> bool:
    try:
        return yaml.load(text, Loader=_Loader) == value
    except yaml.YAMLError:
        return False


_YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n", "~"}


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def scalar(value: Any, flow: bool = False) -> str:
    """A one-line YAML scalar: plain when it reads back unchanged, single-quoted otherwise."""
    if not isinstance(value, str):
        return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
    plain_ok = value == value.strip() and value and "\n" not in value and not value.startswith(("'", '"', "&", "*", "!", "|", ">", "%", "@", "`", "{", "[", "-", "?", ":", "#", ","))
    if plain_ok and flow and any(c in value for c in ",[]{}"):
        plain_ok = False
    if plain_ok and (": " in value or " #" in value or value.endswith(":")):
        plain_ok = False
    if plain_ok and not flow and _SAFE_PLAIN.fullmatch(value) and value.casefold() not in _YAML_WORDS:
        return value
    if plain_ok and _loads_as(f"k: [{value}]" if flow else f"k: {value}", {"k": [value] if flow else value}):
        return value
    return _quoted(value)


def _literal(indent: str, text: str) -> list[str]:
    text = text.strip("\n")
    lines = text.split("\n")
    return [f"{indent}{line}" if line.strip() else "" for line in lines]


def _field(indent: str, key: str, value: Any) -> list[str]:
    if key in FLOW_FIELDS and isinstance(value, list):
        return _flow_list(indent, key, value)
    if key in BLOCK_LIST_FIELDS and isinstance(value, list):
        return [f"{indent}{key}:"] + [f"{indent}- {scalar(item)}" for item in value]
    if isinstance(value, str) and ("\n" in value.strip() or key == "answer"):
        return [f"{indent}{key}: |"] + _literal(indent + "  ", value)
    return [f"{indent}{key}: {scalar(value)}"]


def _flow_list(indent: str, key: str, items: list) -> list[str]:
    pieces = [scalar(item, flow=True) for item in items]
    line = f"{indent}{key}: [{', '.join(pieces)}]"
    if len(line) <= WIDTH:
        return [line]
    lines, current = [], f"{indent}{key}: ["
    for k, piece in enumerate(pieces):
        piece += ", " if k + 1 < len(pieces) else "]"
        if len(current) + len(piece.rstrip()) > WIDTH and not current.endswith("["):
            lines.append(current.rstrip())
            current = indent + "  "
        current += piece
    lines.append(current)
    return lines


# ---------------------------------------------------------------- the file


def ordered_entries(data: dict) -> list[dict]:
    """Entries grouped by category in the order of `categories` (unknown categories last), stable inside."""
    rank = {c["id"]: k for k, c in enumerate(data.get("categories") or []) if isinstance(c, dict)}
    entries = list(data.get("entries") or [])
    return sorted(entries, key=lambda e: rank.get(e.get("category"), len(rank)))


def dump_faq(data: dict, header: str = DEFAULT_HEADER) -> str:
    """The canonical text of the FAQ data; raises WriterError if it would not load back identical."""
    out: list[str] = [line for line in header.rstrip("\n").split("\n")] if header else []
    for key in data:
        if key not in ("categories", "snippets", "entries"):
            out.append(f"{key}: {scalar(data[key])}")
    out.append("categories:" if data.get("categories") else "categories: []")
    for category in data.get("categories") or []:
        first = True
        for key, value in category.items():
            lines = _field("    ", key, value)
            lines[0] = ("  - " if first else "    ") + lines[0].lstrip()
            out += lines
            first = False
    if "snippets" in data:
        out.append("snippets:" if data.get("snippets") else "snippets: []")
    for snippet in data.get("snippets") or []:
        first = True
        for key, value in snippet.items():
            lines = _field("    ", key, value)
            lines[0] = ("  - " if first else "    ") + lines[0].lstrip()
            out += lines
            first = False
    out.append("entries:")
    labels = {c["id"]: c.get("label", c["id"]) for c in data.get("categories") or []}
    current = object()
    for entry in ordered_entries(data):
        if entry.get("category") != current:
            current = entry.get("category")
            out.append(f"# ---------------------------------------- {labels.get(current, current)}")
        keys = [k for k in ENTRY_FIELDS if k in entry] + [k for k in entry if k not in ENTRY_FIELDS]
        first = True
        for key in keys:
            lines = _field("  ", key, entry[key])
            if first:
                lines[0] = "- " + lines[0].lstrip()
                first = False
            out += lines
    text = "\n".join(out) + "\n"
    expected = {**data, "entries": ordered_entries(data)}
    if not _same(yaml.load(text, Loader=_Loader), expected):
        raise WriterError("la forme canonique ne relit pas les mêmes données : fichier laissé intact")
    return text


def _same(a: Any, b: Any) -> bool:
    """Equal data, with texts compared without their surrounding blank lines (a literal block adds one)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    return a == b


def file_header(text: str) -> str:
    """The comment lines that open a FAQ file (kept by the writer)."""
    lines = []
    for line in text.split("\n"):
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines) + "\n" if lines else ""


def write_faq(path: str | Path, data: dict) -> bool:
    """Write the data in canonical form, keeping the file's header; True if the file changed."""
    path = Path(path)
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    text = dump_faq(data, header=file_header(before) or DEFAULT_HEADER)
    if text == before:
        return False
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)  # atomic: the watching workers never read a half-written file
    return True


# ---------------------------------------------------------------- typography and tags

# Acronyms and letter names kept in capitals in tags (everything else is lower case).
TAG_ACRONYMS = {"sms", "rii", "ants", "48n", "48si", "cpf", "cb", "ssl", "3d secure", "l223-6", "faq", "pdf", "sncf"}


def normalise_tag(tag: str) -> str:
    """Tags are lower case except acronyms (SMS, RII, ANTS, 48N, 48SI, …), so no two differ by case only."""
    tag = typography(tag.strip())
    folded = tag.casefold()
    if folded in TAG_ACRONYMS:
        return folded.upper().replace("3D SECURE", "3D Secure")
    return folded


_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")
_DOUBLE_QUOTED = re.compile(r"[\"“”]\s*([^\"“”\n]+?)\s*[\"“”]")


def typography(text: str) -> str:
    """The file's one typography: ’ for apostrophes, « » for quotes (non-breaking spaces are added at display).

    Inside Markdown link targets and `code`, nothing is changed.
    """
    protected: list[str] = []

    def keep(match: re.Match) -> str:
        protected.append(match[0])
        return f"\x00{len(protected) - 1}\x00"

    text = re.sub(r"\]\([^)]*\)|`[^`]*`", keep, text)
    text = _APOSTROPHE.sub("’", text)
    text = _DOUBLE_QUOTED.sub(lambda m: f"« {m[1]} »", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m[1])], text)


def paragraphs(markdown: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", markdown.strip()) if p.strip()]


def union_answer(answers: Iterable[str]) -> str:
    """Every distinct paragraph of the answers, first answer's order first.

    A paragraph whose folded text lies inside a kept one is dropped; a fuller version of a kept paragraph
    replaces it in place (the fuller official wording is kept, no sentence is lost).
    """
    kept: list[tuple[str, str]] = []  # (folded, paragraph)
    for answer in answers:
        for paragraph in paragraphs(answer):
            key = f" {fold(paragraph)} "
            if not key.strip() or any(key in other for other, _ in kept):
                continue
            fuller_of = [k for k, (other, _) in enumerate(kept) if other in key]
            if fuller_of:
                kept[fuller_of[0]] = (key, paragraph)
                kept = [item for k, item in enumerate(kept) if k not in fuller_of[1:]]
            else:
                kept.append((key, paragraph))
    return "\n\n".join(paragraph for _, paragraph in kept) + "\n"


def union_list(*lists: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for items in lists:
        for item in items or []:
            if fold(item) not in seen:
                seen.add(fold(item))
                out.append(item)
    return out


def normalise_entry(entry: dict) -> dict:
    """An entry in the file's typography, with normalised tags (texts for visitors and for staff alike)."""
    entry = dict(entry)
    for key in ("question", "answer", "incomplete", "hidden", "review", "confirm"):
        if isinstance(entry.get(key), str):
            entry[key] = typography(entry[key])
    if isinstance(entry.get("variants"), list):
        entry["variants"] = [typography(v) if isinstance(v, str) else v for v in entry["variants"]]
    if isinstance(entry.get("tags"), list):
        entry["tags"] = union_list([normalise_tag(t) for t in entry["tags"] if isinstance(t, str)])
    return entry
