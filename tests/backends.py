"""Which databases the suite runs on: SQLite always, PostgreSQL when FAQBOT_TEST_POSTGRES_URL is set (CI sets it).

A module of its own rather than conftest: `from conftest import …` is ambiguous once tests/browser/ has a conftest too.
"""
from __future__ import annotations

import os

POSTGRES_URL = os.environ.get("FAQBOT_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def postgres_schema_url(schema: str) -> str:
    """The PostgreSQL URL with `schema` first on the search path (one schema per test)."""
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
