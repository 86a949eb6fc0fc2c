"""`faqbot mail fetch`: read the support mailbox over IMAP, thread each message, move it to the done folder.

TLS by default (IMAP_SECURITY=tls, port 993); `starttls` upgrades a plain connection; `none` is for a server on
the same machine only (the test suite's throw-away Dovecot). Each message is processed in its own transaction
and moved only after that transaction committed: a crash in between leaves it in the inbox, and the next fetch
finds its Message-ID already recorded and just moves it.
"""
from __future__ import annotations

import datetime as dt
import imaplib
import logging
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from . import inbound

log = logging.getLogger(__name__)


class ImapError(Exception):
    """The mailbox could not be read (connection, login, folder): a French message for the operator."""


@dataclass
class FetchReport:
    threaded: list[str] = field(default_factory=list)  # ticket references
    unmatched: int = 0
    ignored: int = 0
    duplicates: int = 0
    errors: int = 0

    def summary(self) -> str:
        return (
            f"{len(self.threaded)} rattaché(s), {self.unmatched} non rattaché(s), {self.ignored} ignoré(s) "
            f"(réponses automatiques, rapports de remise), {self.duplicates} déjà traité(s), {self.errors} en erreur"
        )


def connect(config: Mapping) -> imaplib.IMAP4:
    host = config.get("IMAP_HOST")
    if not host:
        raise ImapError("IMAP_HOST n’est pas configuré : indiquez le serveur de la boîte support.")
    security = (config.get("IMAP_SECURITY") or "tls").lower()
    port = int(config.get("IMAP_PORT") or (993 if security == "tls" else 143))
    try:
        if security == "tls":
            client = imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=30)
        else:
            client = imaplib.IMAP4(host, port, timeout=30)
            if security == "starttls":
                client.starttls(ssl_context=ssl.create_default_context())
            elif security != "none":
                raise ImapError(f"IMAP_SECURITY inconnu : {security!r} (tls, starttls ou none).")
        client.login(config.get("IMAP_USER") or "", config.get("IMAP_PASSWORD") or "")
    except (OSError, imaplib.IMAP4.error) as error:
        raise ImapError(f"Connexion IMAP impossible à {host}:{port} : {error}") from error
    return client


def _ensure_folder(client: imaplib.IMAP4, name: str) -> None:
    status, _data = client.select(_quote(name))
    if status != "OK":
        client.create(_quote(name))
    client.select(_quote(name))  # back to read-write on a fresh select below


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fetch(config: Mapping, database, now: Callable[[], dt.datetime], limit: int = 200) -> FetchReport:
    """Process what is in IMAP_FOLDER (at most `limit` messages a round); move each to IMAP_DONE_FOLDER."""
    folder = config.get("IMAP_FOLDER") or "INBOX"
    done = config.get("IMAP_DONE_FOLDER") or "Traites"
    report = FetchReport()
    client = connect(config)
    try:
        _ensure_folder(client, done)
        status, _data = client.select(_quote(folder))
        if status != "OK":
            raise ImapError(f"Dossier IMAP introuvable : {folder}")
        status, data = client.uid("SEARCH", None, "ALL")
        uids = data[0].split()[:limit] if status == "OK" and data and data[0] else []
        can_move = "MOVE" in client.capabilities
        for uid in uids:
            status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in parts or [] if isinstance(part, tuple)), None)
            if status != "OK" or raw is None:
                report.errors += 1
                continue
            try:
                mail = inbound.parse(raw)
                with database.transaction() as session:
                    outcome = inbound.process(session, mail, now())
            except Exception:  # one broken message must not block the others; it stays in the folder
                log.exception("message IMAP %s non traité", uid)
                report.errors += 1
                continue
            if outcome.outcome == "threaded":
                report.threaded.append(outcome.ticket_ref or "")
            elif outcome.outcome == "unmatched":
                report.unmatched += 1
            elif outcome.outcome == "ignored":
                report.ignored += 1
            else:
                report.duplicates += 1
            _move(client, uid, done, can_move)
        client.expunge()
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    return report


def _move(client: imaplib.IMAP4, uid: bytes, folder: str, can_move: bool) -> None:
    if can_move:
        status, _data = client.uid("MOVE", uid, _quote(folder))
        if status == "OK":
            return
    status, _data = client.uid("COPY", uid, _quote(folder))
    if status == "OK":
        client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
