"""What gunicorn itself answers, in French: errors it raises before the app sees the request.

A request line longer than gunicorn's limit (a long search pasted into the address bar) never reaches Flask;
gunicorn would answer with its own English page (« URI Too Long »). `gunicorn.conf.py` installs `french_errors`
in every worker so the visitor gets a French page with a way back instead.
"""
from __future__ import annotations

import html

# gunicorn's hard ceiling for a request line; the app says « texte trop long » itself below it.
LIMIT_REQUEST_LINE = 8190

MESSAGES = {
    400: ("La requête est invalide.", "Vérifiez l’adresse de la page, ou revenez à l’aide."),
    414: (
        "L’adresse de cette page est trop longue.",
        "Une recherche très longue a sans doute été collée dans l’adresse : revenez à l’aide et posez une question "
        "courte, les premiers mots suffisent.",
    ),
    431: ("La requête est trop volumineuse.", "Revenez à l’aide et réessayez."),
}


def error_page(status: int) -> bytes:
    """A complete HTTP response (French HTML page) for an error gunicorn raises itself."""
    title, advice = MESSAGES.get(status, ("Une erreur est survenue.", "Revenez à l’aide et réessayez."))
    body = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Erreur {status} · Stages de récupération de points</title>"
        '<link rel="stylesheet" href="/static/app.css"></head><body>'
        '<header class="site-header"><a class="brand" href="/">Aide · Stages de récupération de points</a></header>'
        f'<main id="contenu"><h1>Erreur {status}</h1><p>{html.escape(title)}</p><p>{html.escape(advice)}</p>'
        '<p><a href="/">Retour à l’aide</a></p></main></body></html>'
    ).encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Bad Request')}\r\n"
        "Connection: close\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "Content-Language: fr\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("ascii")
    return head + body


_REASONS = {400: "Bad Request", 414: "URI Too Long", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
            501: "Not Implemented", 403: "Forbidden", 417: "Expectation Failed"}


def french_errors(_worker=None) -> None:
    """Make gunicorn's own error responses French (its `util.write_error`, called for requests it refuses)."""
    from gunicorn import util

    def write_error(sock, status_int, reason, mesg):  # same signature as gunicorn's
        util.write_nonblock(sock, error_page(int(status_int)))

    util.write_error = write_error
