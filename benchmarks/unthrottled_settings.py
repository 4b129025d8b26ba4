"""The archive's settings without login throttling, for benchmarks/login_bench.py's "before":
django-axes off and no cache, so every bad HTTP Basic header runs the password hasher."""

from teaching_archive.settings import *  # noqa: F403

AXES_ENABLED = False
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
