"""The search backend interface and the value objects that cross it.

Required methods raise ``NotImplementedError``; optional features are advertised by class
attributes (as in ``django.core.cache.backends.base`` and wagtail's modelsearch).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Document = dict[str, Any]


@dataclass(frozen=True)
class SearchQuery:
    """What a student asked for: free text, facet selections (OR within, AND across), a page."""

    text: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    page: int = 1
    page_size: int = 20

    @property
    def offset(self) -> int:
        return (max(self.page, 1) - 1) * self.page_size


@dataclass
class SearchHit:
    id: int
    title: str
    diagnosis: str | None
    modality: str
    body_region: str
    # Field name → HTML snippet: text escaped, matched words wrapped in <mark>.
    highlights: dict[str, str] = field(default_factory=dict)
    score: float = 0.0


@dataclass
class FacetValue:
    value: str
    count: int
    selected: bool = False


@dataclass
class SearchResults:
    total: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]]


class BaseSearchBackend:
    """One search engine holding one document per published case."""

    supports_facets = True
    supports_highlights = True
    supports_fuzzy = True
    supports_synonyms = True
    supports_autocomplete = True
    # True when ``rebuild`` swaps a fresh index in, so searches keep working during it.
    supports_zero_downtime_rebuild = False

    def __init__(self, alias: str = "default", **options: Any) -> None:
        self.alias = alias
        self.options = options

    # Required -----------------------------------------------------------------------------------
    def index(self, doc: Document) -> None:
        raise NotImplementedError("subclasses of BaseSearchBackend must provide index()")

    def delete(self, case_id: int) -> None:
        raise NotImplementedError("subclasses of BaseSearchBackend must provide delete()")

    def search(self, query: SearchQuery) -> SearchResults:
        raise NotImplementedError("subclasses of BaseSearchBackend must provide search()")

    def suggest(self, prefix: str, limit: int = 10) -> list[dict[str, str]]:
        """Autocomplete: ``[{"text": ..., "kind": "diagnosis" | "tag"}]``."""
        raise NotImplementedError("subclasses of BaseSearchBackend must provide suggest()")

    def rebuild(self, docs: Iterable[Document]) -> int:
        """Replace the whole index with ``docs``; return how many were indexed."""
        raise NotImplementedError("subclasses of BaseSearchBackend must provide rebuild()")

    # Optional, built on the required ones ---------------------------------------------------
    def index_many(self, docs: Iterable[Document]) -> int:
        n = 0
        for doc in docs:
            self.index(doc)
            n += 1
        return n

    def refresh(self) -> None:
        """Make recent writes visible to searches (a no-op where writes are visible at once)."""

    def clear(self) -> None:
        self.rebuild([])
