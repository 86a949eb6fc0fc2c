"""The validated submission record: what the pre-checks and the ticket rules read (no rule lives here).

Apart from `submission.py` (which validates and runs the checks) so that the checks can name the type they read
without importing the module that imports them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .reasons import Reason


@dataclass(frozen=True)
class Submission:
    """A validated submission: typed values, free text already redacted."""

    reason: Reason
    name: str
    email: str
    message: str
    confirmations: frozenset[str]
    values: dict[str, Any]
    faq_seen: tuple[str, ...] = ()
    redactions: int = 0
