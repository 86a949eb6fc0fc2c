"""Typed FAQ content and its loader."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
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
    text = re.sub(r"\[([^\]]*)\]\([^)\s]*\)", r"\1", text)  # links read as their text
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
    incomplete: str | None = None  # what is missing (the entry is served with a pointer to the contact form)
    sources: tuple[str, ...] = ()
    hidden: str | None = None  # why it is kept but never served (an empty shell waiting for staff)
    review: str | None = None  # the curation decisions taken on this entry (merges, contradictions, reverts)
    confirm: str | None = None  # what staff must still confirm (listed in the console)
    aliases: tuple[str, ...] = ()  # ids of entries merged into this one: their links still resolve here

    @cached_property
    def answer_plain(self) -> str:
        """Plain text as served (canned replies, API, search): links as their text, no dangling announcement."""
        return markdown_to_plain(self.answer_served)

    @cached_property
    def answer_html(self) -> str:
        """HTML as served to visitors (see `answer_served`)."""
        return markdown_to_html(self.answer_served)

    @cached_property
    def answer_served(self) -> str:
        """The answer as shown to visitors: an incomplete one loses its dangling announcement ("Pour cela :")."""
        if not self.incomplete:
            return self.answer
        return strip_dangling_announcements(self.answer)



@dataclass(frozen=True)
class Faq:
    """The served knowledge: `entries` are the entries visitors, search, canned replies and the API may see.

    Hidden entries are kept apart in `hidden` (staff pages list them; nothing public reads that field), so every
    consumer iterating `entries` or looking up `by_id` serves only what may be served.
    """

    entries: tuple[Entry, ...]
    categories: tuple[Category, ...]
    snippets: dict[str, Snippet] = field(default_factory=dict)
    digest: str = ""  # sha256 of the source file (and overlay version): the search index rebuilds when it changes
    hidden: tuple[Entry, ...] = ()
    # Set on a FAQ a worker unpickled from its index build (index/build.py, which owns the file): there each entry
    # keeps only its first variants (what `related()` reads), and this reads the full lists, once, when something
    # needs them (`variants_of`); None when they can no longer be read.
    variants_loader: Callable[[], Mapping[str, tuple[str, ...]] | None] | None = field(
        default=None, compare=False, repr=False
    )

    def variants_of(self, entry: Entry, strict: bool = False) -> tuple[str, ...]:
        """All the variants of an entry of this FAQ. If they cannot be read any more (the build was removed), the
        kept ones — unless `strict`: an index is never built from them (ValueError)."""
        if self.variants_loader is None:
            return entry.variants
        saved = self._saved_variants
        if saved is None:
            if strict:
                raise ValueError("Les variantes de la FAQ sont illisibles : relire la FAQ depuis son fichier.")
            return entry.variants
        return saved.get(entry.id, entry.variants)

    @cached_property
    def _saved_variants(self) -> Mapping[str, tuple[str, ...]] | None:
        return self.variants_loader()

    def served_entries(self) -> tuple[Entry, ...]:
        """The entries that may be served (search index, entry pages, categories, canned replies, API)."""
        return self.entries

    @cached_property
    def all_entries(self) -> tuple[Entry, ...]:
        """Served and hidden entries, for staff and for checks."""
        return self.entries + self.hidden

    @cached_property
    def by_id(self) -> dict[str, Entry]:
        return {entry.id: entry for entry in self.entries}

    @cached_property
    def alias_of(self) -> dict[str, str]:
        """Merged-away id → id of the served entry that now answers it."""
        return {alias: entry.id for entry in self.entries for alias in entry.aliases}

    def resolve(self, entry_id: str) -> Entry | None:
        """The served entry for an id, following merges (old links, canned replies, tickets); None if not served."""
        entry = self.by_id.get(entry_id)
        if entry is None and entry_id in self.alias_of:
            entry = self.by_id.get(self.alias_of[entry_id])
        return entry

    @cached_property
    def incomplete_entries(self) -> tuple[Entry, ...]:
        """Entries staff must complete: served ones missing a part, and hidden shells."""
        return tuple(e for e in self.all_entries if e.incomplete or e.hidden)

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


# Link targets a curator writes as `{NAME}` inside a Markdown link: pages of the booking platform or of the
# government that this product does not serve. The app passes its settings; these defaults are the same as
# faqbot/config.py's so the CLI and the bench resolve links the same way.
PLATFORM_LINKS: dict[str, str] = {
    "ESPACE_STAGIAIRE_URL": "https://www.prostagespermis.fr/espace-stagiaire",
    "STAGE_SEARCH_URL": "https://www.prostagespermis.fr/",
    "MES_POINTS_PERMIS_URL": "https://mespoints.permisdeconduire.gouv.fr/",
    "RII_URL": "https://www.service-public.fr/particuliers/recherche?keyword=relev%C3%A9%20d%27information%20int%C3%A9gral",
    "RECOURS_PERMIS_URL": "https://www.service-public.fr/particuliers/recherche?keyword=recours%20retrait%20de%20points",
}
LINK_PLACEHOLDER = re.compile(r"\]\(\{(?P<name>[A-Z_]+)\}\)")


def resolve_links(markdown: str, links: dict[str, str]) -> str:
    """Replace `](…{NAME}…)` link targets by the configured URL (unknown names are left for `content check`)."""
    return LINK_PLACEHOLDER.sub(lambda m: f"]({links[m['name']]})" if m["name"] in links else m[0], markdown)


# A label such as "Pour cela :" or "**Exemple concret :**" says nothing by itself: dropped when its content is lost.
# A longer sentence ("vous pourrez participer en fournissant les documents suivants :") keeps its meaning and
# ends with "…" instead (the page then says the answer is incomplete and points to the contact form).
LABEL_LENGTH = 60
LABEL_WORDS = 4


def _is_label(line: str) -> bool:
    """A heading (« **Exemple concret :** ») or a few words (« Pour cela : »), not a sentence that says something
    (« Le jour de votre stage, il est essentiel d’apporter : » keeps its meaning even without its list)."""
    text = line.strip().strip("*").strip()
    bold = line.strip().startswith("**")
    return len(text) <= LABEL_LENGTH and (bold or len(text.split()) <= LABEL_WORDS)


def _announces(line: str) -> bool:
    return line.rstrip().rstrip("*").rstrip().endswith(":")


def strip_dangling_announcements(markdown: str) -> str:
    """The answer without dangling announcements of a list or section the export lost."""
    from .curation import announces_list  # curation imports nothing from here: no cycle at call time

    paragraphs = [p for p in re.split(r"\n\s*\n", markdown.strip()) if p.strip()]
    kept = []
    for index, paragraph in enumerate(paragraphs):
        lines = paragraph.strip().splitlines()
        following = paragraphs[index + 1].strip() if index + 1 < len(paragraphs) else ""
        if len(lines) != 1 or not _announces(lines[0]) or re.match(r"^(?:[-*+]|\d+[.)])\s+", following):
            kept.append(paragraph)
            continue
        # Dangling: nothing follows, a list was announced and prose follows, or a label is followed by another label.
        is_label = _is_label(lines[0])
        next_is_label = len(following.splitlines()) == 1 and _announces(following)
        after = paragraphs[index + 2].strip() if index + 2 < len(paragraphs) else ""
        # A heading right after this one that has lost its own content: what this one announced is gone too.
        next_is_empty_label = next_is_label and (not after or (len(after.splitlines()) == 1 and _announces(after)))
        if not (announces_list(lines[0]) or not following or (is_label and next_is_label) or next_is_empty_label):
            kept.append(paragraph)
            continue
        if not is_label:
            kept.append(re.sub(r"\s*:\s*(\**)\s*$", r"…\1", lines[0].rstrip()))
    return "\n\n".join(kept)


def parse_faq(data: dict, digest: str = "", links: dict[str, str] | None = None) -> Faq:
    """Build typed content from the parsed YAML (validation of meaning is `content.check`'s job)."""
    links = {**PLATFORM_LINKS, **(links or {})}
    categories = tuple(
        Category(id=c["id"], label=c["label"], description=c.get("description", "")) for c in data.get("categories", [])
    )
    snippets = {s["id"]: Snippet(id=s["id"], text=resolve_links(s["text"].strip(), links)) for s in data.get("snippets", [])}
    entries = tuple(
        Entry(
            id=e["id"],
            question=e["question"].strip(),
            answer=resolve_links(e["answer"].strip(), links),
            category=e["category"],
            variants=_tuple(e.get("variants")),
            tags=_tuple(e.get("tags")),
            snippets=_tuple(e.get("snippets")),
            contact_reason=e.get("contact_reason"),
            incomplete=e.get("incomplete"),
            sources=_tuple(e.get("sources")),
            hidden=_text(e.get("hidden")),
            review=_text(e.get("review")),
            confirm=_text(e.get("confirm")),
            aliases=_tuple(e.get("aliases")),
        )
        for e in data.get("entries", [])
    )
    return Faq(
        entries=tuple(e for e in entries if not e.hidden),
        categories=categories,
        snippets=snippets,
        digest=digest,
        hidden=tuple(e for e in entries if e.hidden),
    )


def _text(value) -> str | None:
    """Optional free-text field; `true` (a curator's shortcut) counts as a reason not given."""
    if value is None or value is False:
        return None
    if value is True:
        return "—"
    return str(value).strip() or None


def load_faq_data(path: str | Path) -> tuple[dict, str]:
    """The parsed YAML of the FAQ file and its sha256."""
    raw = Path(path).read_bytes()
    return parse_faq_bytes(raw), hashlib.sha256(raw).hexdigest()


def parse_faq_bytes(raw: bytes) -> dict:
    """The parsed YAML of the FAQ file's bytes."""
    return yaml.load(raw, Loader=_YamlLoader) or {}


def load_faq(path: str | Path, links: dict[str, str] | None = None) -> Faq:
    """Load data/faq.yaml into typed objects."""
    data, digest = load_faq_data(path)
    return parse_faq(data, digest=digest, links=links)
