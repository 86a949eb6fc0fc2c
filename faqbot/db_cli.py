"""`faqbot db …`: schema migrations."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from . import db as persistence


@click.group("db", help="Base de données : migrations.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Applique toutes les migrations.")
@with_appcontext
def upgrade() -> None:
    persistence.get_db().upgrade(Path(current_app.instance_path))
    click.echo("Schéma à jour.")


@db_group.command("heads", help="Affiche la ou les dernières migrations.")
@with_appcontext
def heads() -> None:
    from alembic import command

    command.heads(persistence.alembic_config(persistence.get_db().url))
