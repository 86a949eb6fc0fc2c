"""The house rules that keep the layers apart, checked on the source itself."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "faqbot"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("domain", ["content", "index", "triage"])
def test_domain_packages_never_import_flask(domain):
    offenders = [p.name for p in (PACKAGE / domain).rglob("*.py") if {"flask", "flask_wtf", "flask_babel"} & _imported_modules(p)]
    assert offenders == []


def test_only_the_index_package_imports_whoosh():
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "whoosh" in _imported_modules(p) and (PACKAGE / "index") not in p.parents
    ]
    assert offenders == []


def _relative_imports(path: Path) -> set[str]:
    """Sibling packages a module of faqbot/<package>/ imports relatively (`from ..triage import x` -> "triage")."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("faqbot."):
            names.add(node.module.split(".")[1])
    return names


def test_content_is_the_floor_search_and_triage_stand_on():
    """The content package (FAQ, thesaurus, folding) imports neither search nor triage: they build on it. The
    contact reasons it checks entries against are handed in by the app factory."""
    offenders = [
        str(p.relative_to(PACKAGE)) for p in (PACKAGE / "content").rglob("*.py") if {"triage", "index"} & _relative_imports(p)
    ]
    assert offenders == []
