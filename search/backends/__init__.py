"""Pluggable search backends, chosen in settings like Django's caches and storages.

``settings.SEARCH_BACKENDS`` maps an alias to ``{"BACKEND": dotted path, "OPTIONS": {...}}`` and
``settings.SEARCH_BACKEND`` names the alias in use. The handler reads settings lazily, creates a
backend on first use and caches it; tests may inject their own settings dict.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .base import BaseSearchBackend, FacetValue, SearchHit, SearchQuery, SearchResults

__all__ = [
    "BaseSearchBackend",
    "FacetValue",
    "SearchBackendHandler",
    "SearchHit",
    "SearchQuery",
    "SearchResults",
    "get_search_backend",
    "search_backends",
]


class SearchBackendHandler:
    """Alias → backend, in the manner of ``django.utils.connection.BaseConnectionHandler``."""

    settings_name = "SEARCH_BACKENDS"

    def __init__(self, settings: dict[str, dict[str, Any]] | None = None) -> None:
        self._settings = settings
        self._backends: dict[str, BaseSearchBackend] = {}

    @property
    def settings(self) -> dict[str, dict[str, Any]]:
        if self._settings is None:
            self._settings = getattr(django_settings, self.settings_name, None) or {
                "database": {"BACKEND": "search.backends.database.DatabaseSearchBackend"}
            }
        return self._settings

    @property
    def default_alias(self) -> str:
        return getattr(django_settings, "SEARCH_BACKEND", None) or next(iter(self.settings))

    def create_backend(self, alias: str) -> BaseSearchBackend:
        try:
            params = self.settings[alias]
        except KeyError as e:
            raise ImproperlyConfigured(
                f"The search backend {alias!r} is not in settings.{self.settings_name}."
            ) from e
        path = params.get("BACKEND")
        if not path:
            raise ImproperlyConfigured(f"Search backend {alias!r} has no BACKEND.")
        try:
            backend_cls = import_string(path)
        except ImportError as e:
            raise ImproperlyConfigured(
                f"Could not import search backend {path!r} for alias {alias!r}: {e}"
            ) from e
        return backend_cls(alias=alias, **params.get("OPTIONS", {}))

    def __getitem__(self, alias: str) -> BaseSearchBackend:
        try:
            return self._backends[alias]
        except KeyError:
            backend = self.create_backend(alias)
            self._backends[alias] = backend
            return backend

    def __iter__(self):
        return iter(self.settings)

    def all(self) -> list[BaseSearchBackend]:
        return [self[alias] for alias in self]

    def reset(self) -> None:
        """Forget cached backends and settings (used when tests override settings)."""
        self._settings = None
        self._backends = {}


search_backends = SearchBackendHandler()


def get_search_backend(alias: str | None = None) -> BaseSearchBackend:
    return search_backends[alias or search_backends.default_alias]


def _reset_on_settings_change(*, setting: str, **kwargs: Any) -> None:
    if setting in {"SEARCH_BACKENDS", "SEARCH_BACKEND"}:
        search_backends.reset()


def _connect_signals() -> None:
    from django.test.signals import setting_changed

    setting_changed.connect(_reset_on_settings_change, dispatch_uid="search-backends-reset")


_connect_signals()
