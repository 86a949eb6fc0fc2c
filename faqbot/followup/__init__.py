"""The trainee's private follow-up page `/suivi/<token>`: where the request stands, the exchange, a message form,
« Mon problème est résolu » and the satisfaction question (routes only; the rules live in triage/conversation.py)."""
from __future__ import annotations


def init_app(app) -> None:
    from . import routes

    app.register_blueprint(routes.bp)
