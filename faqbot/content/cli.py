"""`faqbot content …` commands (click only: the content package stays free of Flask)."""
from __future__ import annotations

import click


@click.group("content", help="Contenu de la FAQ : import de l’export et contrôle.")
def content_group() -> None:
    pass
