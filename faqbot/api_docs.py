"""The OpenAPI description of the JSON API, served at /api/openapi.json and /api/openapi.yaml.

The YAML file next to this module is the single source: clients, the docs and the schemathesis fuzz read it.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from flask import Blueprint, Response, jsonify

SPEC_PATH = Path(__file__).resolve().parent / "openapi.yaml"

bp = Blueprint("api_docs", __name__)


@lru_cache(maxsize=1)
def load_spec() -> dict:
    """Parse the description once per process (it ships with the code, it never changes at runtime)."""
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


@bp.get("/api/openapi.json")
def openapi_json():
    return jsonify(load_spec())


@bp.get("/api/openapi.yaml")
def openapi_yaml():
    return Response(SPEC_PATH.read_text(encoding="utf-8"), mimetype="application/yaml")


def init_app(app) -> None:
    app.register_blueprint(bp)
