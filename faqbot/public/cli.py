"""`faqbot index …` commands: the web layer's, since they need the app (faqbot.index itself stays free of Flask)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("index", help="Index de recherche.")
def index_group() -> None:
    pass


@index_group.command("build", help="Reconstruit l’index de recherche à partir du fichier FAQ.")
@click.option("--force", is_flag=True, help="Reconstruire même si l’index est à jour.")
@with_appcontext
def build_command(force: bool) -> None:
    from .. import knowledge
    from ..index.build import ensure_index, save_faq

    # The served FAQ as the app just loaded it (its index is built by then unless --force): parsed once, not twice.
    faq = knowledge.faq()
    folder = ensure_index(faq, Path(current_app.config["INDEX_DIR"]), force=force)
    if force:  # a fresh folder: the workers find the parsed FAQ in it again
        save_faq(faq, folder, knowledge.platform_links(current_app.config))
    click.echo(f"Index prêt : {len(faq.entries)} entrées dans {folder}")


@index_group.command("search", help="Cherche dans la FAQ (pour vérifier la pertinence).")
@click.argument("words", nargs=-1)
@click.option("--limit", default=5, show_default=True)
@with_appcontext
def search_command(words: tuple[str, ...], limit: int) -> None:
    from .. import knowledge

    service = knowledge.search()
    outcome = service.search(" ".join(words), limit=limit)
    if outcome.corrected_query:
        click.echo(f"Résultats pour « {outcome.corrected_query} »")
    for hit in outcome.hits:
        click.echo(f"{hit.score:7.2f}  {hit.entry.id}  {hit.entry.question}")
