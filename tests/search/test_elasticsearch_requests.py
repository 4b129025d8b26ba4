"""Request-level tests of the Elasticsearch backend: what it asks the node to do.

These run without a node (the live contract runs in test_contract_elasticsearch when one
answers). They pin the parts that make the contract hold: the search-time synonym graph, edge
n-grams, fuzziness, post_filter facets with per-facet aggregation filters, HTML-encoded
highlights, and the alias swap of a rebuild.
"""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import pytest

from search.backends import SearchQuery
from search.backends import elasticsearch as es_backend
from search.backends.elasticsearch import ElasticsearchSearchBackend


@pytest.fixture
def backend(db):
    return ElasticsearchSearchBackend(INDEX_PREFIX="t", client=mock.MagicMock())


def test_index_body_has_synonym_graph_at_search_time_and_edge_ngrams(backend):
    body = backend.index_body()
    analysis = body["settings"]["analysis"]
    search = analysis["analyzer"]["ta_search"]
    assert "ta_diagnosis_synonyms" in search["filter"]
    syn = analysis["filter"]["ta_diagnosis_synonyms"]
    assert syn["type"] == "synonym_graph"
    assert "hepatocellular carcinoma, hcc, hepatoma, liver cell carcinoma" in syn["synonyms"]
    assert analysis["tokenizer"]["ta_edge_ngram"]["type"] == "edge_ngram"
    props = body["mappings"]["properties"]
    # Synonyms only at search time: index analyzer has none.
    assert props["diagnosis"]["analyzer"] == "ta_text"
    assert props["diagnosis"]["search_analyzer"] == "ta_search"
    assert "ta_diagnosis_synonyms" not in analysis["analyzer"]["ta_text"]["filter"]
    assert props["diagnosis"]["fields"]["suggest"]["analyzer"] == "ta_autocomplete"
    assert props["tags"]["type"] == "keyword"
    assert body["mappings"]["dynamic"] == "strict"


def test_search_body_facets_use_post_filter_and_other_facets_only(backend):
    q = SearchQuery(text="pnuemothorax", filters={"modality": ("CT", "MR"), "tags": ("icu",)})
    body = backend.build_search(q).to_dict()
    assert body["post_filter"] == {
        "bool": {"filter": [{"terms": {"modality": ["CT", "MR"]}}, {"terms": {"tags": ["icu"]}}]}
    }
    mod = body["aggs"]["modality"]["filter"]
    assert mod == {"bool": {"filter": [{"terms": {"tags": ["icu"]}}]}}
    tags = body["aggs"]["tags"]["filter"]
    assert tags == {"bool": {"filter": [{"terms": {"modality": ["CT", "MR"]}}]}}
    assert body["aggs"]["diagnosis"]["aggs"]["values"]["terms"]["field"] == "diagnosis.raw"
    assert body["highlight"]["encoder"] == "html"
    assert body["highlight"]["pre_tags"] == ["<mark>"]
    text = str(body["query"])
    assert "'fuzziness': 'AUTO'" in text and "ta_search" in text
    assert body["track_total_hits"] is True


def test_rebuild_fills_a_new_index_and_swaps_the_alias(backend, monkeypatch):
    client = backend.client
    client.indices.get_alias.return_value = {"t-cases-old": {"aliases": {"t-cases": {}}}}
    seen = []

    def fake_bulk(_client, actions, **kwargs):
        seen.extend(actions)
        return len(seen), []

    monkeypatch.setattr(es_backend.helpers, "bulk", fake_bulk)
    n = backend.rebuild([{"id": 1, "title": "A"}, {"id": 2, "title": "B"}])
    assert n == 2
    new = client.indices.create.call_args.kwargs["index"]
    assert new.startswith("t-cases-") and new != "t-cases-old"
    assert {a["_index"] for a in seen} == {new}
    client.indices.update_aliases.assert_called_once_with(
        actions=[
            {"remove": {"index": "t-cases-old", "alias": "t-cases"}},
            {"add": {"index": new, "alias": "t-cases"}},
        ]
    )
    client.indices.delete.assert_called_with(index="t-cases-old", ignore_unavailable=True)


def test_failed_rebuild_keeps_the_old_index(backend, monkeypatch):
    def broken_bulk(*args, **kwargs):
        raise RuntimeError("node went away")

    monkeypatch.setattr(es_backend.helpers, "bulk", broken_bulk)
    with pytest.raises(RuntimeError):
        backend.rebuild([{"id": 1}])
    backend.client.indices.update_aliases.assert_not_called()
    new = backend.client.indices.create.call_args.kwargs["index"]
    backend.client.indices.delete.assert_called_once_with(index=new, ignore_unavailable=True)


def test_response_is_read_into_hits_and_facets(backend):
    backend.client.indices.exists_alias.return_value = True
    backend.client.search.return_value = SimpleNamespace(
        body={
            "hits": {
                "total": {"value": 1, "relation": "eq"},
                "max_score": 3.0,
                "hits": [
                    {
                        "_index": "t-cases-x",
                        "_id": "7",
                        "_score": 3.0,
                        "_source": {
                            "id": 7,
                            "title": "T",
                            "diagnosis": "",
                            "modality": "CT",
                            "body_region": "chest",
                        },
                        "highlight": {"findings": ["a &lt;b&gt; <mark>x</mark>", "y"]},
                    }
                ],
            },
            "aggregations": {
                name: {"doc_count": 1, "values": {"buckets": [{"key": "CT", "doc_count": 1}]}}
                for name in (
                    "modality",
                    "body_region",
                    "organ_system",
                    "diagnosis",
                    "level",
                    "age_group",
                    "sex",
                    "tags",
                )
            },
        }
    )
    res = backend.search(SearchQuery(text="x", filters={"modality": ("CT", "US")}))
    assert res.total == 1
    [hit] = res.hits
    assert hit.id == 7 and hit.diagnosis is None
    assert hit.highlights == {"findings": "a &lt;b&gt; <mark>x</mark> … y"}
    assert [(v.value, v.count, v.selected) for v in res.facets["modality"]] == [
        ("CT", 1, True),
        ("US", 0, True),
    ]


def test_delete_of_a_missing_document_is_harmless(backend):
    from elasticsearch import NotFoundError

    backend.client.delete.side_effect = NotFoundError("not found", mock.Mock(status=404), {})
    backend.delete(42)
