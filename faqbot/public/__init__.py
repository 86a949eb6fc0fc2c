"""Visitor-facing pages and the search API.

`init_app` creates the process's search-log writer (`app.extensions["faqbot.searchlog"]`) and gives the search
service its popularity (openings counted from that log). The FAQ and its search service belong to
`faqbot.knowledge`, which reloads them in the background when the file changes.
"""
from __future__ import annotations

from flask import Flask

from .. import knowledge
from . import searchlog
from .routes import bp


def init_app(app: Flask) -> None:
    # Search-log rows are buffered per process and written in batches (see SearchLogWriter); tests write at the
    # end of each request so they see their rows deterministically.
    flush_seconds = app.config.get("SEARCH_LOG_FLUSH_SECONDS")
    if flush_seconds is None:
        flush_seconds = 0.0 if app.config.get("TESTING") else 0.5
    writer = searchlog.SearchLogWriter(
        app.extensions["faqbot.db"], flush_seconds=float(flush_seconds), logger=app.logger,
        batch_rows=int(app.config.get("SEARCH_LOG_BATCH_ROWS", 200)),
    )
    app.extensions["faqbot.searchlog"] = writer
    if not writer.buffered:
        app.teardown_request(lambda _exc: writer.flush())
    knowledge.store(app).popularity = searchlog.popularity_for(app)
    app.register_blueprint(bp)
    from .cli import index_group

    app.cli.add_command(index_group)
