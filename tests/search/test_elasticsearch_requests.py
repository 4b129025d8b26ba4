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
    [hcc] = [line for line in syn["synonyms"] if line.startswith("hepatocellular carcinoma,")]
    # The curated group with its variants: plurals, Czech with and without diacritics.
    assert {
        "hcc",
        "hepatoma",
        "liver cell carcinoma",
        "hepatocellular carcinomata",
        "hepatocelulární karcinom",
        "hepatocelularni karcinom",
    } <= set(hcc.split(", "))
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
    # No fuzzy query: typos are corrected towards known words before the search is built.
    assert "fuzziness" not in text and "ta_search" in text
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
                    "icd_chapter",
                    "icd_block",
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


def test_only_unknown_words_are_corrected_and_never_codes_or_abbreviations(backend):
    """C22.0 is one edit from C22.1 and HCC from RCC (other diseases): the suggester is asked
    only about plain words, in ``missing`` mode (a word some case has is never corrected)."""
    backend.client.search.return_value = SimpleNamespace(body={"suggest": {}})
    assert backend.corrected_texts("C22.0 HCC T2") == ["C22.0 HCC T2"]
    backend.client.search.assert_not_called()
    backend.corrected_texts("pnuemothorax T2")
    [asked] = backend.client.search.call_args.kwargs["body"]["suggest"].values()
    assert asked["text"] == "pnuemothorax"
    assert asked["term"]["field"] == "spell" and asked["term"]["suggest_mode"] == "missing"
    assert asked["term"]["max_edits"] == 2


def test_each_correction_is_searched_in_place_of_the_unknown_word(backend):
    backend.client.search.return_value = SimpleNamespace(
        body={
            "suggest": {
                "w0": [
                    {
                        "text": "pnuemothorax",
                        "options": [
                            {"text": "pneumothorax", "score": 0.9, "freq": 3},
                            {"text": "pneumothoraces", "score": 0.5, "freq": 1},
                        ],
                    }
                ]
            }
        }
    )
    # "pneumothoraces" is three edits away: more than the database backend allows.
    assert backend.corrected_texts("pnuemothorax CT") == ["pnuemothorax CT", "pneumothorax ct"]
    query = str(backend._text_query(["pnuemothorax CT", "pneumothorax ct"]).to_dict())
    assert "'query': 'pneumothorax ct'" in query and "fuzziness" not in query


# --- the 7.x subclass: only the calls whose signature differs -----------------------------------


@pytest.fixture
def backend7(db):
    from search.backends.elasticsearch7 import Elasticsearch7SearchBackend

    return Elasticsearch7SearchBackend(INDEX_PREFIX="t", client=mock.MagicMock())


def test_es7_sends_the_same_search_body_with_keywords(backend7):
    backend7.client.indices.exists_alias.return_value = True
    backend7.client.search.return_value = {
        "hits": {"total": {"value": 0, "relation": "eq"}, "hits": []},
        "aggregations": {
            f.name: {"doc_count": 0, "values": {"buckets": []}} for f in es_backend.FACETS
        },
    }
    q = SearchQuery(text="pe", filters={"modality": ("CT",)}, page=2)
    res = backend7.search(q)
    assert res.total == 0 and res.hits == []
    kwargs = backend7.client.search.call_args.kwargs
    assert "body" not in kwargs and "from" not in kwargs
    assert kwargs["index"] == ["t-cases"] and kwargs["from_"] == 20 and kwargs["size"] == 20
    expected = backend7.build_search(q).to_dict()
    expected["from_"] = expected.pop("from")
    assert {k: v for k, v in kwargs.items() if k != "index"} == expected


def test_es7_alias_swap_and_clear_use_a_body(backend7, monkeypatch):
    from search.backends import elasticsearch7

    client = backend7.client
    client.indices.get_alias.return_value = {"t-cases-old": {"aliases": {"t-cases": {}}}}
    monkeypatch.setattr(
        elasticsearch7.helpers, "bulk", lambda _c, actions, **kw: (len(list(actions)), [])
    )
    assert backend7.rebuild([{"id": 1}]) == 1
    new = client.indices.create.call_args.kwargs["index"]
    client.indices.update_aliases.assert_called_once_with(
        body={
            "actions": [
                {"remove": {"index": "t-cases-old", "alias": "t-cases"}},
                {"add": {"index": new, "alias": "t-cases"}},
            ]
        }
    )
    backend7.clear()
    assert client.delete_by_query.call_args.kwargs["body"] == {"query": {"match_all": {}}}


def test_es7_missing_document_is_harmless(backend7):
    from elasticsearch7 import NotFoundError

    backend7.client.delete.side_effect = NotFoundError(404, "not_found", {})
    backend7.delete(42)


def _transport_answering(info: dict, headers: dict | None = None):
    import json

    from elasticsearch7.connection import Connection

    from search.backends.elasticsearch7 import OpenSourceFlavourTransport

    class Answer(Connection):
        def perform_request(self, method, url, *args, **kwargs):
            body = info if url == "/" else {"ok": True}
            return 200, headers or {}, json.dumps(body)

    return OpenSourceFlavourTransport([{"host": "127.0.0.1", "port": 1}], connection_class=Answer)


def test_es7_transport_accepts_an_oss_7_10_node_but_nothing_else():
    from elasticsearch7.exceptions import UnsupportedProductError

    oss = {
        "version": {"number": "7.10.2", "build_flavor": "oss"},
        "tagline": "You Know, for Search",
    }
    assert _transport_answering(oss).perform_request("GET", "/_cluster/health") == {"ok": True}
    impostor = {"version": {"number": "7.10.2", "build_flavor": "oss"}, "tagline": "Other"}
    with pytest.raises(UnsupportedProductError):
        _transport_answering(impostor).perform_request("GET", "/_cluster/health")
    no_header = {
        "version": {"number": "7.17.0", "build_flavor": "default"},
        "tagline": "You Know, for Search",
    }
    with pytest.raises(UnsupportedProductError):
        _transport_answering(no_header).perform_request("GET", "/_cluster/health")
