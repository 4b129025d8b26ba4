"""Fixtures of the search tests: factories for cases, and a backend chosen per test class."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import factory
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from archive.models import Case, Diagnosis, Tag
from search import synonyms

pytest.register_assert_rewrite("tests.search.contract")

REPO = Path(__file__).resolve().parents[2]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"search-user-{n}")


class DiagnosisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Diagnosis
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Diagnosis {n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag{n}")


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Teaching case {n}")
    owner = factory.SubFactory(UserFactory, username="search-teacher")
    history = "Adult patient with acute symptoms."
    findings = ""
    modality = "CT"
    body_region = "chest"
    organ_system = "chest"
    level = "student"
    status = Case.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set([TagFactory(name=t) if isinstance(t, str) else t for t in extracted])


@pytest.fixture(autouse=True)
def _fresh_synonyms():
    # Diagnoses made by one test must not linger in the per-process synonym cache.
    synonyms.clear_cache()
    yield
    synonyms.clear_cache()


# --- Elasticsearch node -----------------------------------------------------------------------


def elasticsearch_url() -> str:
    return os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200")


def elasticsearch_info(url: str | None = None, timeout: float = 1.0) -> dict | None:
    """The node's ``GET /`` answer, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url or elasticsearch_url(), timeout=timeout) as r:
            return json.load(r) if r.status == 200 else None
    except (OSError, ValueError):
        return None


def elasticsearch_answers(url: str | None = None, timeout: float = 1.0) -> bool:
    return elasticsearch_info(url, timeout) is not None


@pytest.fixture(scope="session")
def elasticsearch_node():
    """The node at ELASTICSEARCH_URL; started from search/es_node when TA_START_ES_NODE=1."""
    script = REPO / "search" / "es_node" / "run.sh"
    started = None
    if not elasticsearch_answers() and os.environ.get("TA_START_ES_NODE") == "1":
        port = urllib.parse.urlsplit(elasticsearch_url()).port or 9200
        started = subprocess.run(
            ["bash", str(script), "--background"],
            capture_output=True,
            text=True,
            timeout=900,
            env={**os.environ, "TA_ES_PORT": str(port)},
        )
        # run.sh exits 0 without starting anything when a node already answers: not ours to stop.
        if "using it" in started.stdout:
            started = None
    if not elasticsearch_answers():
        why = (started.stdout + started.stderr)[-300:] if started is not None else ""
        pytest.skip(f"no Elasticsearch node answers at {elasticsearch_url()} {why}".strip())
    yield elasticsearch_url()
    if started is not None and started.returncode == 0:
        subprocess.run(["bash", str(script), "--stop"], capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def elasticsearch_major(elasticsearch_node) -> int:
    """The major version of the node (7 for the Maven cluster-runner node, 8 in production)."""
    info = elasticsearch_info(elasticsearch_node, timeout=5) or {}
    return int(str(info.get("version", {}).get("number", "0")).split(".")[0])


@pytest.fixture(scope="session")
def elasticsearch_index_prefix(elasticsearch_node):
    """An index prefix of this test session, so sessions sharing one node do not collide."""
    prefix = f"ta-test-{os.getpid()}"
    yield prefix
    request = urllib.request.Request(
        f"{elasticsearch_node}/{prefix}-*?ignore_unavailable=true", method="DELETE"
    )
    try:
        urllib.request.urlopen(request, timeout=30).close()
    except OSError:
        pass  # the node is gone already: nothing left to clean


def use_elasticsearch_backend(settings, alias: str, backend: str, prefix: str) -> None:
    """Add ``alias`` to SEARCH_BACKENDS (unless settings have it) with this session's prefix."""
    entry = settings.SEARCH_BACKENDS.get(alias) or {"BACKEND": backend, "OPTIONS": {}}
    options = {**entry.get("OPTIONS", {}), "URL": elasticsearch_url(), "INDEX_PREFIX": prefix}
    settings.SEARCH_BACKENDS = {**settings.SEARCH_BACKENDS, alias: {**entry, "OPTIONS": options}}
