"""Search of the FAQ: the French analyzer, the Whoosh index (the only module that imports whoosh), the service.

    service = SearchService(faq, index_dir)
    outcome = service.search("remboursment cb")  # .query, .corrected_query, .hits[i].entry/.score/.snippet_html
"""
from __future__ import annotations

from .build import ensure_index
from .service import Hit, SearchOutcome, SearchService

__all__ = ["Hit", "SearchOutcome", "SearchService", "ensure_index"]
