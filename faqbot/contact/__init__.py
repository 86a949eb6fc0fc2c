"""Contact area: the triaged /contact flow and the triage/ticket JSON API (routes only; rules live in triage/)."""
from __future__ import annotations


def init_app(app) -> None:
    """Register the /contact pages and the /api/triage, /api/tickets endpoints."""
    from . import api, routes

    app.register_blueprint(routes.bp)
    app.register_blueprint(api.bp)
