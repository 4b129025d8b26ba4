"""Fixtures of the search tests: factories for cases, and a backend chosen per test class."""

from __future__ import annotations

import os
import subprocess
import time
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


def elasticsearch_answers(url: str | None = None, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url or elasticsearch_url(), timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def elasticsearch_node():
    """The node at ELASTICSEARCH_URL; started from search/es_node when TA_START_ES_NODE=1."""
    script = REPO / "search" / "es_node" / "run.sh"
    started = None
    if not elasticsearch_answers() and os.environ.get("TA_START_ES_NODE") == "1":
        started = subprocess.run(
            ["bash", str(script), "--background"], capture_output=True, text=True, timeout=900
        )
        deadline = time.monotonic() + 60
        while started.returncode == 0 and time.monotonic() < deadline:
            if elasticsearch_answers():
                break
            time.sleep(1)
    if not elasticsearch_answers():
        why = (started.stdout + started.stderr)[-300:] if started is not None else ""
        pytest.skip(f"no Elasticsearch node answers at {elasticsearch_url()} {why}".strip())
    yield elasticsearch_url()
    if started is not None and started.returncode == 0:
        subprocess.run(["bash", str(script), "--stop"], capture_output=True, timeout=60)
