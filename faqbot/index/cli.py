"""`faqbot index …` commands."""
from __future__ import annotations

import click


@click.group("index", help="Index de recherche.")
def index_group() -> None:
    pass
