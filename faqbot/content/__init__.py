"""The FAQ knowledge base: typed entries loaded from data/faq.yaml (no Flask here)."""
from __future__ import annotations

from .model import Category, Entry, Faq, Snippet, load_faq

__all__ = ["Category", "Entry", "Faq", "Snippet", "load_faq"]
