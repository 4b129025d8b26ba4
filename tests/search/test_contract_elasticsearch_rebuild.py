"""Live, on the node at ELASTICSEARCH_URL: a rebuild fills a fresh index and swaps the alias, so
searches keep answering from the old index until the new one is complete (and after a failed
rebuild). Runs with the backend that speaks the node's major version."""

from __future__ import annotations

import pytest

from archive.models import Case
from search import services
from search.backends import get_search_backend, search_backends

from .conftest import CaseFactory, DiagnosisFactory, use_elasticsearch_backend

BACKENDS = {
    7: ("elasticsearch7", "search.backends.elasticsearch7.Elasticsearch7SearchBackend"),
    8: ("elasticsearch", "search.backends.elasticsearch.ElasticsearchSearchBackend"),
}


@pytest.fixture
def backend(db, settings, elasticsearch_major, elasticsearch_index_prefix):
    if elasticsearch_major not in BACKENDS:
        pytest.skip(f"no backend for Elasticsearch {elasticsearch_major}.x")
    alias, path = BACKENDS[elasticsearch_major]
    use_elasticsearch_backend(settings, alias, path, f"{elasticsearch_index_prefix}-rebuild")
    settings.SEARCH_BACKEND = alias
    search_backends.reset()
    backend = get_search_backend()
    backend.clear()
    yield backend
    backend.clear()
    search_backends.reset()


def concrete_indices(backend) -> set[str]:
    return set(backend.client.indices.get(index=f"{backend.index_alias}-*").keys())


def ids(text: str) -> list[int]:
    return [r["id"] for r in services.search_cases(text=text).results]


def test_searches_answer_from_the_old_index_until_the_swap(backend):
    old_case = CaseFactory(diagnosis=DiagnosisFactory(name="Pneumothorax"))
    services.index_case(old_case.pk)
    [old_index] = backend._indices_behind_alias()
    # The archive changes behind the index's back; only the rebuild will show it. (Not by
    # unpublishing: searches re-check publication against the database whatever the index says.)
    effusion = DiagnosisFactory(name="Pleural effusion")
    Case.objects.filter(pk=old_case.pk).update(diagnosis=effusion)
    new_case = CaseFactory(diagnosis=DiagnosisFactory(name="Pneumothorax"))
    during = []

    def progress(done: int, total: int) -> None:
        during.append(ids("pneumothorax"))

    assert services.rebuild_index(progress=progress) == 2
    assert during == [[old_case.pk]]
    assert ids("pneumothorax") == [new_case.pk]
    [new_index] = backend._indices_behind_alias()
    assert new_index != old_index
    assert concrete_indices(backend) == {new_index}


def test_a_failed_rebuild_leaves_the_live_index_alone(backend):
    case = CaseFactory(diagnosis=DiagnosisFactory(name="Pneumothorax"))
    services.index_case(case.pk)
    before = concrete_indices(backend)

    def broken_docs():
        yield {"id": 999_999, "title": "half"}
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        backend.rebuild(broken_docs())
    assert ids("pneumothorax") == [case.pk]
    assert concrete_indices(backend) == before


def test_an_index_from_before_the_spell_field_searches_until_rebuilt(backend, monkeypatch):
    # An archive upgraded without `search_index --rebuild`: its index has no `spell` field, so
    # typos cannot be corrected, but every search must still answer; the rebuild brings them.
    old_body = backend.index_body

    def body_without_spell():
        body = old_body()
        properties = body["mappings"]["properties"]
        properties.pop("spell")
        for field in properties.values():
            field.pop("copy_to", None)
        return body

    monkeypatch.setattr(backend, "index_body", body_without_spell)
    ptx = CaseFactory(diagnosis=DiagnosisFactory(name="Pneumothorax"))
    backend.rebuild(
        [{"id": ptx.pk, "title": "Young smoker", "diagnosis": "Pneumothorax", "tags": []}]
    )
    assert ids("pneumothorax") == [ptx.pk]
    assert ids("pneumothroax") == []
    monkeypatch.undo()
    assert services.rebuild_index() == 1
    assert ids("pneumothroax") == [ptx.pk]
