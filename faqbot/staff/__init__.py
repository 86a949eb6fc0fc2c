"""The staff console under /staff: login, queues, ticket workflow, e-mail replies, accounts and analytics.

Everything under /staff requires a logged-in, active staff member whose session is current (session_version) and
not idle; admin-only pages say so with `admin_required`. Roles are decided in `workflow.py`.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")


def init_app(app) -> None:
    """Register the console's routes, its request guard and the `faqbot staff` commands."""
    from ..triage.business_hours import parse_schedules
    from . import admin, auth, cli, content_loop, views  # noqa: F401  (the modules attach their routes to `bp`)

    try:  # a typo in the opening hours must stop the start, not every ticket page
        parse_schedules(app.config.get("SLA_BUSINESS_HOURS") or "")
    except ValueError as error:
        raise RuntimeError(f"SLA_BUSINESS_HOURS : {error}") from error

    app.register_blueprint(bp)
    app.cli.add_command(cli.staff_group)
