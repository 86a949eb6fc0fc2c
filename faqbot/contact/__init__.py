"""Contact area: the triaged /contact flow and the triage/ticket JSON API (routes only; rules live in triage/)."""
from __future__ import annotations


def init_app(app) -> None:
    """Register the /contact pages and the /api/triage, /api/tickets endpoints."""
    from flask_babel import gettext

    from . import api, routes

    # Reason labels, answers and rule messages are data (gettext msgids that may contain "%"): translated
    # as they are, without the %-formatting Jinja's `_()` always applies.
    app.add_template_global(lambda text: gettext(text) if text else "", "tr")
    app.register_blueprint(routes.bp)
    app.register_blueprint(api.bp)
    # Load the triage classifier now (or train it, once per example bank, in a child process): never in a request.
    with app.app_context():
        from . import services

        services.triage_model()
