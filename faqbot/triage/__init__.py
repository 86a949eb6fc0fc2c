"""Triage: contact reasons as data, pre-checks as pure functions, legal deadlines, redaction, tickets.

No Flask here: the web layer (`faqbot.contact`), the CLI and the tests call these functions directly.
"""
from __future__ import annotations

from .checks import CHECKS
from .deadlines import Transfer, assess_retraction, retraction_deadline
from .problems import Problem
from .reasons import REASONS, REASONS_BY_ID, Reason, get_reason
from .redaction import redact_cards
from .submission import Submission, Validation, validate
from .suggest import Suggestion, suggest
from .tickets import create_ticket, new_ref

__all__ = [
    "CHECKS", "REASONS", "REASONS_BY_ID", "Problem", "Reason", "Submission", "Suggestion", "Transfer", "Validation",
    "assess_retraction", "create_ticket", "get_reason", "new_ref", "redact_cards", "retraction_deadline",
    "suggest", "validate",
]
