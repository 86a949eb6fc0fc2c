"""`faqbot db …`: schema migrations."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .db import alembic_config, get_db


@click.group("db", help="Base de données : migrations.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Applique toutes les migrations.")
@with_appcontext
def upgrade() -> None:
    get_db().upgrade(Path(current_app.instance_path))
    click.echo("Schéma à jour.")


@db_group.command("heads", help="Affiche la ou les dernières migrations.")
@with_appcontext
def heads() -> None:
    from alembic import command

    command.heads(alembic_config(get_db().url))
