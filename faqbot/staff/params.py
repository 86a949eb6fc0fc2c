"""Numeric query parameters of the console, bounded: a hostile value is a 400 (or the default), never a 500."""
from __future__ import annotations

from flask import abort


def bounded_int(raw: str | None, *, default: int, low: int, high: int, lenient: bool = False) -> int:
    """`raw` as an int in [low, high]; missing → `default`.

    Anything else (« ² », 30 digits, -1) is a 400 — or, with `lenient` (page numbers, where a mistyped link should
    still show the list), the default when it is not a number and the nearest bound when it is out of range.
    """
    if raw is None or raw == "":
        return default
    # str.isdigit() accepts « ² » and other Unicode digits that int() refuses: ASCII digits only, and short.
    if not (raw.isascii() and raw.isdigit()):
        if lenient:
            return default
        abort(400, description="Paramètre numérique invalide.")
    if len(raw) > len(str(high)) or not low <= int(raw) <= high:
        if lenient:
            return high if len(raw) > len(str(high)) or int(raw) > high else low
        abort(400, description="Paramètre numérique hors limites.")
    return int(raw)
