"""Storages by alias (``settings.STORAGES``), looked up lazily.

Django evaluates a FileField's storage callable once, when the model class loads. The holding
and quarantine storages must follow settings instead (tests point them at temporary folders and
a worker process must find the same files), so the field gets a lazy proxy, like Django's own
``default_storage``, that is reset whenever ``STORAGES`` changes.
"""

from __future__ import annotations

from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.utils.functional import LazyObject, empty

_proxies: list[AliasedStorage] = []


class AliasedStorage(LazyObject):
    def __init__(self, alias: str) -> None:
        super().__init__()
        self.__dict__["_alias"] = alias
        _proxies.append(self)

    def _setup(self) -> None:
        self._wrapped = storages[self._alias]


def _reset(*, setting: str, **_kwargs) -> None:
    if setting == "STORAGES":
        for proxy in _proxies:
            proxy._wrapped = empty


setting_changed.connect(_reset)

raw_holding = AliasedStorage("raw_holding")
quarantine = AliasedStorage("quarantine")
