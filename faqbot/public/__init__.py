"""Visitor-facing pages: home, search, FAQ entries (placeholder until the search area lands)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    return render_template("public/home.html")


def init_app(app) -> None:
    app.register_blueprint(bp)
