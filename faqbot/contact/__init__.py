"""Contact area: the triaged /contact flow and the triage/ticket JSON API (routes only; rules live in triage/)."""
from __future__ import annotations


def init_app(app) -> None:
    """Register the contact blueprints (filled in as the flow lands)."""
