"""Search of the FAQ: the French analyzer (vocabulary from data/thesaurus.yaml, Whoosh's analysis framework), the
index build (the tables every worker maps, with Whoosh's BM25F; a Whoosh index only as the tests' reference), query
reading (stories, corrections), the ranking service. Only this package imports whoosh.

    service = SearchService(faq, index_dir)
    outcome = service.search("remboursment cb")  # .query, .corrected_query, .hits[i].entry/.score/.snippet_html
"""
from __future__ import annotations

from .build import ensure_index
from .service import Hit, SearchOutcome, SearchService

__all__ = ["Hit", "SearchOutcome", "SearchService", "ensure_index"]
