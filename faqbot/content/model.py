"""Typed FAQ content and its loader."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

# libyaml's loader parses the FAQ ~10x faster than the pure-Python one; same safe subset of YAML.
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# HTML in the source is shown as text, never interpreted: the FAQ file must not be a way to inject markup.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def markdown_to_html(text: str) -> str:
    return _markdown.render(text)


def markdown_to_plain(text: str) -> str:
    """Plain text of a Markdown answer: list markers and emphasis removed, paragraphs kept on their own lines."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line)
        line = line.replace("**", "").replace("__", "")
        lines.append(line.rstrip())
    plain = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", plain).strip()


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class Snippet:
    """A passage the export repeated after many answers (sign-up footers), stored once and referenced."""

    id: str
    text: str

    @cached_property
    def html(self) -> str:
        return markdown_to_html(self.text)


@dataclass(frozen=True)
class Entry:
    id: str
    question: str
    answer: str  # Markdown, the platform's wording
    category: str
    variants: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    snippets: tuple[str, ...] = ()
    contact_reason: str | None = None
    incomplete: str | None = None
    sources: tuple[str, ...] = ()

    @cached_property
    def answer_plain(self) -> str:
        return markdown_to_plain(self.answer)

    @cached_property
    def answer_html(self) -> str:
        return markdown_to_html(self.answer)


@dataclass(frozen=True)
class Faq:
    entries: tuple[Entry, ...]
    categories: tuple[Category, ...]
    snippets: dict[str, Snippet] = field(default_factory=dict)
    digest: str = ""  # sha256 of the source file: the search index rebuilds when it changes

    @cached_property
    def by_id(self) -> dict[str, Entry]:
        return {entry.id: entry for entry in self.entries}

    @cached_property
    def category_by_id(self) -> dict[str, Category]:
        return {category.id: category for category in self.categories}

    def in_category(self, category_id: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.category == category_id]

    def for_reason(self, reason_id: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.contact_reason == reason_id]


def _tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


def parse_faq(data: dict, digest: str = "") -> Faq:
    """Build typed content from the parsed YAML (validation of meaning is `content.check`'s job)."""
    categories = tuple(
        Category(id=c["id"], label=c["label"], description=c.get("description", "")) for c in data.get("categories", [])
    )
    snippets = {s["id"]: Snippet(id=s["id"], text=s["text"].strip()) for s in data.get("snippets", [])}
    entries = tuple(
        Entry(
            id=e["id"],
            question=e["question"].strip(),
            answer=e["answer"].strip(),
            category=e["category"],
            variants=_tuple(e.get("variants")),
            tags=_tuple(e.get("tags")),
            snippets=_tuple(e.get("snippets")),
            contact_reason=e.get("contact_reason"),
            incomplete=e.get("incomplete"),
            sources=_tuple(e.get("sources")),
        )
        for e in data.get("entries", [])
    )
    return Faq(entries=entries, categories=categories, snippets=snippets, digest=digest)


def load_faq(path: str | Path) -> Faq:
    """Load data/faq.yaml into typed objects."""
    raw = Path(path).read_bytes()
    return parse_faq(yaml.load(raw, Loader=_YamlLoader) or {}, digest=hashlib.sha256(raw).hexdigest())
