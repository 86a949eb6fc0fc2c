"""The content loop's overlay: changes proposed from the console, reviewed by an admin, served on top of the file.

data/faq.yaml stays the reviewed source of the repository; accepted changes live in the database (table
`content_change`) so that every worker of every host serves them as soon as they are accepted, and
`faqbot content export` writes them into the file. The overlay is applied idempotently: a variant the file
already has, or an entry whose id the file already has, is skipped — so a host whose file is older or newer
than the database serves the same content.

The knowledge owner (faqbot/public: ContentWatcher) calls `overlay_version(session)` (one indexed SELECT) to
notice a change and `load_served_faq(path, session, links)` to rebuild the served FAQ. Every change writes an
`audit_event` row (who, when, what). No Flask here.
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEvent, ContentChange, ContentVersion, QueryDismissal, StaffUser
from .export import fold
from .text import fold_words
from .model import Faq, load_faq_data, parse_faq, parse_faq_bytes

MAX_VARIANT_LENGTH = 200
MAX_QUESTION_LENGTH = 300
MAX_ANSWER_LENGTH = 20000
SIGNALS = ("zero", "contact", "no-vote", "unclicked", "manual")


class ContentError(ValueError):
    """A proposal or review that cannot be made; the message is French and says why."""


@dataclass(frozen=True)
class Overlay:
    version: int
    changes: tuple[ContentChange, ...]


# ---------------------------------------------------------------- version and loading


def overlay_version(session: Session) -> int:
    """The overlay's version: changes whenever what is served changes (0 before any accepted change)."""
    version = session.scalar(select(ContentVersion.version).where(ContentVersion.id == 1))
    return int(version or 0)


def _bump(session: Session, now: dt.datetime) -> int:
    row = session.get(ContentVersion, 1, with_for_update=True)
    if row is None:
        row = ContentVersion(id=1, version=0, changed_at=now)
        session.add(row)
    row.version = (row.version or 0) + 1
    row.changed_at = now
    session.flush()
    return row.version


def accepted_changes(session: Session) -> list[ContentChange]:
    return list(session.scalars(select(ContentChange).where(ContentChange.status == "accepted").order_by(ContentChange.id)))


def apply_changes(data: dict, changes: list[ContentChange]) -> dict:
    """The FAQ data with accepted changes applied (idempotent: what the file already has is skipped)."""
    data = copy.deepcopy(data)
    entries = data.setdefault("entries", [])
    by_id = {e["id"]: e for e in entries if isinstance(e, dict) and "id" in e}
    alias_of = {alias: e["id"] for e in entries if isinstance(e, dict) for alias in e.get("aliases") or []}
    for change in changes:
        if change.kind == "variant":
            target = by_id.get(change.entry_id) or by_id.get(alias_of.get(change.entry_id, ""))
            text = str(change.payload.get("variant", "")).strip()
            if target is None or not text:
                continue
            known = {fold(v) for v in target.get("variants") or []} | {fold(target.get("question", ""))}
            if fold(text) not in known:
                target.setdefault("variants", []).append(text)
        elif change.kind == "entry" and change.entry_id not in by_id:
            entry = {"id": change.entry_id, **{k: v for k, v in change.payload.items() if k != "id"}}
            entries.append(entry)
            by_id[entry["id"]] = entry
    return data


def load_overlay(session: Session) -> Overlay:
    return Overlay(version=overlay_version(session), changes=tuple(accepted_changes(session)))


def load_served_faq(path: str | Path, session: Session | None, links: dict[str, str] | None = None,
                    saved: Callable[[str], Faq | None] | None = None) -> Faq:
    """data/faq.yaml with the accepted overlay applied; its digest covers both (the index rebuilds on a change).

    `saved(digest)` may hand back that very version already parsed (the index build keeps it): the YAML, the
    longest part of a worker's start on a large FAQ, is then not parsed again.
    """
    raw = Path(path).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    overlay = load_overlay(session) if session is not None else None
    if overlay is not None and overlay.changes:
        digest = hashlib.sha256(f"{digest}:{overlay.version}".encode()).hexdigest()
    if saved is not None and (faq := saved(digest)) is not None:
        return faq
    data = parse_faq_bytes(raw)
    if overlay is None or not overlay.changes:
        return parse_faq(data, digest=digest, links=links)
    return parse_faq(apply_changes(data, list(overlay.changes)), digest=digest, links=links)


# ---------------------------------------------------------------- junk


_CARD_LIKE = re.compile(r"(?:\d[ \-]?){13,19}")


def is_junk_query(query: str) -> bool:
    """A logged query nobody should turn into content: one character, no letter or digit at all (emoji,
    punctuation), a card number or the mask the log puts in its place."""
    text = (query or "").strip()
    if len(text) <= 1:
        return True
    if "carte masqué" in text.casefold() or _CARD_LIKE.search(text):
        return True
    return not any(ch.isalnum() for ch in text)


def normalise_query(query: str) -> str:
    """How the lists group queries: lower case, spaces collapsed (the analytics' grouping)."""
    return " ".join((query or "").split()).lower()[:200]


# ---------------------------------------------------------------- proposals


def _audit(session: Session, actor: StaffUser | None, kind: str, detail: dict, now: dt.datetime) -> None:
    session.add(AuditEvent(actor_id=actor.id if actor else None, kind=kind, detail=json.dumps(detail, ensure_ascii=False)[:2000], at=now))


def _check_signal(signal: str) -> str:
    return signal if signal in SIGNALS else "manual"


def propose_variant(
    session: Session, faq: Faq, actor: StaffUser, entry_id: str, text: str, *, query: str = "", signal: str = "manual", now: dt.datetime
) -> ContentChange:
    """Attach a visitor's wording to an entry as a new variant (pending an admin's review)."""
    from .writer import typography

    text = typography(" ".join((text or "").split()))
    if not text:
        raise ContentError("La variante est vide.")
    if len(text) > MAX_VARIANT_LENGTH:
        raise ContentError(f"La variante dépasse {MAX_VARIANT_LENGTH} caractères.")
    if is_junk_query(text):
        raise ContentError("Cette recherche ressemble à du bruit (un caractère, aucun mot, numéro de carte) : elle ne peut pas devenir une variante.")
    entry = faq.resolve(entry_id) or next((e for e in faq.hidden if e.id == entry_id), None)
    if entry is None:
        raise ContentError(f"Entrée inconnue : {entry_id}.")
    folded = fold(text)
    for other in faq.all_entries:
        if folded in {fold(v) for v in faq.variants_of(other)} | {fold(other.question)}:
            raise ContentError(f"Cette formulation est déjà une variante de « {other.question} ».")
    pending = session.scalar(
        select(ContentChange).where(ContentChange.kind == "variant", ContentChange.status.in_(("proposed", "accepted")), ContentChange.entry_id == entry.id)
        .where(ContentChange.query == normalise_query(query or text))
    )
    if pending is not None:
        raise ContentError("Cette recherche est déjà proposée pour cette entrée.")
    change = ContentChange(
        kind="variant", entry_id=entry.id, payload={"variant": text}, query=normalise_query(query or text),
        signal=_check_signal(signal), status="proposed", proposed_by=actor.id, proposed_at=now, review_note="",
    )
    session.add(change)
    session.flush()
    _audit(session, actor, "content_proposed", {"change": change.id, "kind": "variant", "entry": entry.id, "variant": text}, now)
    return change


def slug_for(question: str, taken: set[str]) -> str:
    """A new entry's id from its question: ascii words, at most 60 characters, unique."""
    words = [w for w in fold_words(question).split() if len(w) > 2][:8] or ["entree"]
    base = "-".join(words)[:52].strip("-")
    if "-" not in base:
        base = f"{base}-faq"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def propose_entry(
    session: Session, faq: Faq, actor: StaffUser, *, question: str, answer: str, category: str, variants: list[str] | None = None,
    query: str = "", signal: str = "manual", now: dt.datetime,
) -> ContentChange:
    """A new entry drafted from a query the FAQ does not answer (pending an admin's review)."""
    question = " ".join((question or "").split())
    answer = (answer or "").strip()
    if not question.endswith("?"):
        raise ContentError("La question doit se terminer par « ? ».")
    if len(question) > MAX_QUESTION_LENGTH or len(answer) > MAX_ANSWER_LENGTH:
        raise ContentError("Question ou réponse trop longue.")
    if len(answer) < 20:
        raise ContentError("La réponse est vide ou trop courte (20 caractères au moins).")
    if category not in faq.category_by_id:
        raise ContentError(f"Catégorie inconnue : {category}.")
    clean_variants = [" ".join(v.split()) for v in variants or [] if v and v.strip()]
    if query and not is_junk_query(query) and fold(query) not in {fold(v) for v in clean_variants} | {fold(question)}:
        clean_variants.insert(0, " ".join(query.split()))
    taken = {e.id for e in faq.all_entries} | set(faq.alias_of) | set(
        session.scalars(select(ContentChange.entry_id).where(ContentChange.kind == "entry"))
    )
    entry_id = slug_for(question, taken)
    from .writer import normalise_entry

    payload = normalise_entry({
        "question": question, "variants": clean_variants, "answer": answer + "\n", "category": category,
        "tags": [], "review": f"Proposée depuis la console le {now:%Y-%m-%d} à partir de la recherche « {query or question} ».",
    })
    change = ContentChange(
        kind="entry", entry_id=entry_id, payload=payload, query=normalise_query(query), signal=_check_signal(signal),
        status="proposed", proposed_by=actor.id, proposed_at=now, review_note="",
    )
    session.add(change)
    session.flush()
    _audit(session, actor, "content_proposed", {"change": change.id, "kind": "entry", "entry": entry_id, "question": question}, now)
    return change


def dismiss_query(session: Session, actor: StaffUser, query: str, now: dt.datetime) -> None:
    """Mark a logged query as noise: it leaves the content loop's lists."""
    key = normalise_query(query)
    if not key:
        raise ContentError("Recherche vide.")
    if session.scalar(select(QueryDismissal).where(QueryDismissal.query == key)) is None:
        session.add(QueryDismissal(query=key, dismissed_by=actor.id, dismissed_at=now))
        _audit(session, actor, "content_dismissed", {"query": key}, now)


def dismissed_queries(session: Session) -> set[str]:
    return set(session.scalars(select(QueryDismissal.query)))


def proposed_queries(session: Session) -> set[str]:
    """Queries already turned into a proposal (pending or accepted): the lists do not offer them again."""
    return set(session.scalars(select(ContentChange.query).where(ContentChange.status.in_(("proposed", "accepted")))))


# ---------------------------------------------------------------- review


def review_change(
    session: Session, faq_data: dict, reviewer: StaffUser, change_id: int, *, accept: bool, note: str = "", now: dt.datetime
) -> ContentChange:
    """An admin accepts (served at once, the overlay version changes) or rejects a proposal."""
    if reviewer.role != "admin":
        raise ContentError("Seul un administrateur peut valider une proposition.")
    change = session.get(ContentChange, change_id, with_for_update=True)
    if change is None:
        raise ContentError("Proposition introuvable.")
    if change.status != "proposed":
        raise ContentError("Cette proposition a déjà été traitée.")
    if accept:
        problems = validate_with(faq_data, accepted_changes(session) + [change])
        if problems:
            raise ContentError("La FAQ ne serait plus valide : " + " ; ".join(problems[:3]))
    change.status = "accepted" if accept else "rejected"
    change.reviewed_by = reviewer.id
    change.reviewed_at = now
    change.review_note = (note or "").strip()[:2000]
    if accept:
        _bump(session, now)
    _audit(session, reviewer, "content_accepted" if accept else "content_rejected",
           {"change": change.id, "kind": change.kind, "entry": change.entry_id, "note": change.review_note}, now)
    return change


def validate_with(faq_data: dict, changes: list[ContentChange]) -> list[str]:
    """Schema problems (content check's field rules) of the FAQ once these changes are applied (a proposal never sets
    a contact reason, so the reasons' registry is not needed here)."""
    from .check import check_schema

    data = apply_changes(faq_data, changes)
    ids = {c.entry_id for c in changes}
    return [
        str(v) for v in check_schema(data, None, {})
        if v.kind != "source" and (v.where in ids or "variante" in v.message)
    ]


# ---------------------------------------------------------------- export


def export_accepted(
    session: Session, faq_path: str | Path, actor: StaffUser | None, now: dt.datetime, operator: str = ""
) -> list[ContentChange]:
    """Write the accepted changes not yet exported into the file (stable writer); mark them exported.

    `operator` names who ran the export when it is not a staff member (the system user of `faqbot content export`).
    """
    from .writer import write_faq

    data, _digest = load_faq_data(faq_path)
    pending = [c for c in accepted_changes(session) if c.exported_at is None]
    if not pending:
        return []
    write_faq(faq_path, apply_changes(data, pending))
    for change in pending:
        change.exported_at = now
    _audit(session, actor, "content_exported", {"changes": [c.id for c in pending], "file": Path(faq_path).name, "operator": operator}, now)
    return pending
