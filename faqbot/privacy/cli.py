"""`faqbot privacy purge|export EMAIL|erase EMAIL`: answer an RGPD request from the server's shell (audited)."""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from ..db import utcnow
from . import run_erase, run_export, run_purge
from .core import summary


@click.group("privacy", help="Données personnelles (RGPD) : purge de rétention, export et effacement.")
def privacy_group() -> None:
    pass


@privacy_group.command("purge", help="Applique la rétention : tickets terminés anonymisés, journaux anciens effacés.")
@with_appcontext
def purge_command() -> None:
    click.echo("Purge : " + summary(run_purge(current_app, utcnow())))


@privacy_group.command("export", help="Tout ce que nous détenons sur une adresse e-mail, en JSON.")
@click.argument("email")
@with_appcontext
def export_command(email: str) -> None:
    click.echo(json.dumps(run_export(current_app, email, utcnow()), ensure_ascii=False, indent=2))


@privacy_group.command("erase", help="Anonymise les tickets d’une adresse, détruit IBAN, clés et textes.")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Ne pas demander de confirmation.")
@with_appcontext
def erase_command(email: str, yes: bool) -> None:
    if not yes:
        click.confirm(f"Effacer définitivement les données de {email} ?", abort=True)
    click.echo("Effacement : " + summary(run_erase(current_app, email, utcnow())))
