"""`faqbot mail send` (deliver the outbox now) and `faqbot mail fetch [--watch]` (read replies over IMAP)."""
from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("mail", help="E-mails : envoi de la file d’attente, lecture des réponses (IMAP).")
def mail_group() -> None:
    pass


@mail_group.command("send", help="Envoie les e-mails en attente dont l’heure est venue (avec reprises).")
@click.option("--watch", is_flag=True, help="Continue : regarde la file toutes les 0,25 s (Ctrl+C pour arrêter) ; "
              "c’est l’expéditeur de MAIL_DELIVERY=process quand gunicorn.conf.py n’est pas utilisé.")
# The sender process gunicorn.conf.py starts runs this command with the master's pid: it leaves with the server.
@click.option("--parent-pid", type=int, default=None, hidden=True)
@with_appcontext
def send(watch: bool, parent_pid: int | None) -> None:
    from . import deliver_pending

    app = current_app._get_current_object()
    if watch:
        from .process import run_forever

        run_forever(app, parent_pid=parent_pid)
        return
    total = {"sent": 0, "retried": 0, "failed": 0}
    while True:
        report = deliver_pending(app)
        total["sent"] += len(report.sent)
        total["retried"] += len(report.retried)
        total["failed"] += len(report.failed)
        if not report.sent:
            break
    click.echo(f"{total['sent']} envoyé(s), {total['retried']} à réessayer plus tard, {total['failed']} abandonné(s).")


@mail_group.command("fetch", help="Lit la boîte IMAP et rattache les réponses aux tickets.")
@click.option("--watch", is_flag=True, help="Relève la boîte en continu (Ctrl+C pour arrêter).")
@click.option("--interval", default=60, show_default=True, type=click.IntRange(5, 3600), help="Secondes entre deux relèves.")
@with_appcontext
def fetch(watch: bool, interval: int) -> None:
    from ..db import utcnow
    from . import imap

    app = current_app._get_current_object()
    while True:
        try:
            report = imap.fetch(app.config, app.extensions["faqbot.db"], utcnow)
        except imap.ImapError as error:
            if not watch:
                raise click.ClickException(str(error)) from error
            click.echo(str(error), err=True)
        else:
            click.echo(report.summary())
            if report.unmatched:
                # The polite answers were queued: send them now rather than waiting for a web worker.
                from . import deliver_pending

                deliver_pending(app)
        if not watch:
            return
        time.sleep(interval)
