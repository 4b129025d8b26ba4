"""Elasticsearch backend (elasticsearch-py 8 with ``elasticsearch.dsl``).

- One index per build (``<prefix>-cases-<timestamp>``) behind the alias ``<prefix>-cases``; a
  rebuild fills a new index and swaps the alias atomically, so searches never see a half index.
- Text is stemmed (English) at index time, and again in Czech in ``.cs`` subfields (the
  ``ta_czech`` analyzer: Elasticsearch's light Czech stemmer, then diacritics folded). The
  diagnosis synonym groups (``search.synonyms``, with their variants) are a ``synonym_graph``
  filter of the *search* analyzer, so editing them needs no reindexing of text, only a rebuild
  to reload the analyzer. Typos as in the database backend: only a word the archive does not
  know is corrected, to at most three known words within ``max_edits`` (a ``term`` suggester with
  ``suggest_mode: missing`` on ``spell``, every text field's words unstemmed, via ``copy_to``),
  and the query is then sent with each correction in place of the word. A fuzzy query instead
  would bend known words too, on stems: "appendicitis" (stem "append") matched every case that
  says "Appearances", "HCC" every "RCC".
- Autocomplete: edge n-gram subfields of the diagnosis, its synonyms and the tags.
- Facets as in ``FacetedSearch``: selections go to ``post_filter``; each facet's aggregation is
  filtered by the *other* facets' selections only.
- Highlights with ``encoder: html``: the text is escaped and matches wrapped in ``<mark>``.

The request bodies are built with ``elasticsearch.dsl`` as plain dicts; the few calls whose
signature or response differs between client majors (client construction, bulk, alias update,
delete-by-query, executing a search, the not-found error) are methods here, so a version subclass
(``elasticsearch7.Elasticsearch7SearchBackend``) overrides only those.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError, helpers
from elasticsearch.dsl import (
    A,
    Boolean,
    Date,
    Document,
    Integer,
    Keyword,
    Q,
    Search,
    Text,
    analyzer,
    normalizer,
    token_filter,
    tokenizer,
)
from elasticsearch.dsl.response import Response

from ..czech import fold
from ..documents import TEXT_FIELDS
from ..facets import FACETS
from ..synonyms import close_terms, max_edits, query_concepts, synonym_table
from .base import BaseSearchBackend, FacetValue, SearchHit, SearchQuery, SearchResults

logger = logging.getLogger(__name__)

lowercase_normalizer = normalizer("ta_lowercase", filter=["lowercase", "asciifolding"])
english_stem = token_filter("ta_english_stem", type="stemmer", language="english")
possessive = token_filter("ta_possessive", type="stemmer", language="possessive_english")
ta_text = analyzer(
    "ta_text", tokenizer="standard", filter=["lowercase", "asciifolding", possessive, english_stem]
)
ta_autocomplete = analyzer(
    "ta_autocomplete",
    tokenizer=tokenizer(
        "ta_edge_ngram", type="edge_ngram", min_gram=2, max_gram=20, token_chars=["letter", "digit"]
    ),
    filter=["lowercase", "asciifolding"],
)
ta_autocomplete_search = analyzer(
    "ta_autocomplete_search", tokenizer="standard", filter=["lowercase", "asciifolding"]
)
# Czech: the light stemmer (czech_stem) needs the diacritics, so they are folded after it; a
# query typed without them meets the same stems ("zlomeniny zeber" → "zlomenin zebr").
ta_czech = analyzer(
    "ta_czech",
    tokenizer="standard",
    filter=[
        "lowercase",
        token_filter("ta_czech_stop", type="stop", stopwords="_czech_"),
        token_filter("ta_czech_stem", type="stemmer", language="czech"),
        "asciifolding",
    ],
)
# Words as typed (lower-case, diacritics folded, not stemmed): what a typo is corrected towards.
ta_words = analyzer("ta_words", tokenizer="standard", filter=["lowercase", "asciifolding"])
SEARCH_ANALYZER = "ta_search"  # defined per index build, with the synonyms of that moment

SPELL_FIELD = "spell"
TEXT = {"analyzer": ta_text, "search_analyzer": SEARCH_ANALYZER, "copy_to": SPELL_FIELD}
SUGGEST = {"analyzer": ta_autocomplete, "search_analyzer": ta_autocomplete_search}
CZECH = Text(analyzer=ta_czech)


class CaseDocument(Document):
    id = Integer()
    title = Text(**TEXT, fields={"cs": CZECH})
    diagnosis = Text(**TEXT, fields={"raw": Keyword(), "suggest": Text(**SUGGEST), "cs": CZECH})
    diagnosis_id = Integer()
    diagnosis_terms = Text(**TEXT, fields={"suggest": Text(**SUGGEST), "cs": CZECH})
    icd10 = Keyword(normalizer=lowercase_normalizer)
    tags = Keyword(fields={"suggest": Text(**SUGGEST)})
    tags_text = Text(**TEXT)
    anatomy = Text(**TEXT)
    findings = Text(**TEXT, fields={"cs": CZECH})
    history = Text(**TEXT, fields={"cs": CZECH})
    discussion = Text(**TEXT)
    modality = Keyword()
    body_region = Keyword()
    organ_system = Keyword()
    icd_chapter = Keyword()
    icd_block = Keyword()
    level = Keyword()
    age_group = Keyword()
    sex = Keyword()
    quiz_mode = Boolean()
    published_at = Date()
    # Filled by copy_to from the text fields (never in _source): the archive's vocabulary.
    spell = Text(analyzer=ta_words)


FIELD_BOOSTS = {
    "diagnosis": 10,
    "diagnosis_terms": 10,
    "title": 4,
    "tags_text": 3,
    "findings": 2,
    "history": 1.5,
    "anatomy": 1,
    "discussion": 0.5,
}
# The Czech subfields, queried with their own analyzer (stemmed Czech, no synonyms).
CZECH_BOOSTS = {
    "diagnosis.cs": 10,
    "diagnosis_terms.cs": 10,
    "title.cs": 4,
    "findings.cs": 2,
    "history.cs": 1.5,
}
FACET_FIELDS = {f.name: ("diagnosis.raw" if f.name == "diagnosis" else f.name) for f in FACETS}
HIGHLIGHT = {"title": 0, "diagnosis": 0, "findings": 2, "history": 2}
DIAGNOSIS_FIRST_BOOST = 1000.0
# Corrections per unknown word, as the database backend's close_terms(limit=3); the query is
# sent once per combination, so a query with several unknown words is capped.
CORRECTIONS_PER_WORD = 3
MAX_QUERY_VARIANTS = 16


def _ci_prefix_regex(prefix: str) -> str:
    """A Lucene regex matching values with a word starting with ``prefix``, any case."""
    parts = []
    for ch in prefix:
        if ch.isalpha():
            parts.append(f"[{ch.lower()}{ch.upper()}]")
        else:
            parts.append(re.sub(r"([^\w ])", r"\\\1", ch))
    return "(.*[ \\-])?" + "".join(parts) + ".*"


class ElasticsearchSearchBackend(BaseSearchBackend):
    supports_zero_downtime_rebuild = True
    # The client library's "no such document/index" error.
    not_found_error: type[Exception] = NotFoundError
    # The client library's "the node refused the request" error (HTTP 400).
    bad_request_error: type[Exception] = BadRequestError

    def __init__(
        self,
        alias: str = "elasticsearch",
        URL: str = "http://127.0.0.1:9200",
        INDEX_PREFIX: str = "teaching-archive",
        TIMEOUT: float = 10.0,
        client: Any = None,
        **options: Any,
    ) -> None:
        super().__init__(alias, **options)
        self.url = URL
        self.index_alias = f"{INDEX_PREFIX}-cases"
        self.timeout = TIMEOUT
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self.connect()
        return self._client

    # What differs between client majors -----------------------------------------------------
    def connect(self) -> Elasticsearch:
        return Elasticsearch(self.url, request_timeout=self.timeout)

    def bulk(self, actions: Iterable[dict[str, Any]]) -> int:
        ok, _ = helpers.bulk(self.client, actions, chunk_size=1000)
        return ok

    def update_aliases(self, actions: list[dict[str, Any]]) -> None:
        self.client.indices.update_aliases(actions=actions)

    def delete_all(self, index: str) -> None:
        self.client.delete_by_query(
            index=index, query={"match_all": {}}, refresh=True, conflicts="proceed"
        )

    def execute(self, search: Search) -> Response:
        return search.execute()

    # Index management ---------------------------------------------------------------------------
    def index_body(self) -> dict[str, Any]:
        """Settings and mappings of a new index, synonyms as of now."""
        synonyms = synonym_table(fresh=True).solr_lines()
        search_analyzer = analyzer(
            SEARCH_ANALYZER,
            tokenizer="standard",
            filter=[
                "lowercase",
                "asciifolding",
                token_filter(
                    "ta_diagnosis_synonyms", type="synonym_graph", synonyms=synonyms, lenient=True
                ),
                possessive,
                english_stem,
            ],
        )
        mapping = CaseDocument._doc_type.mapping
        analysis = mapping._collect_analysis()
        for section, items in search_analyzer.get_analysis_definition().items():
            analysis.setdefault(section, {}).update(items)
        analysis.setdefault("normalizer", {}).update(
            lowercase_normalizer.get_analysis_definition().get("normalizer", {})
        )
        body = {
            "settings": {
                "number_of_shards": 1,
                "number_of_replicas": 0,
                "analysis": analysis,
            },
            "mappings": {**mapping.to_dict(), "dynamic": "strict"},
        }
        return body

    def _new_index_name(self) -> str:
        return f"{self.index_alias}-{time.strftime('%Y%m%d%H%M%S')}-{time.monotonic_ns() % 10**6}"

    def _indices_behind_alias(self) -> list[str]:
        try:
            return list(self.client.indices.get_alias(name=self.index_alias).keys())
        except self.not_found_error:
            return []

    def ensure_index(self) -> None:
        """Create the first index and point the alias at it (no-op when the alias exists)."""
        if self.client.indices.exists_alias(name=self.index_alias):
            return
        name = self._new_index_name()
        self.client.indices.create(index=name, **self.index_body())
        self.client.indices.put_alias(index=name, name=self.index_alias)

    @staticmethod
    def _source(doc: dict[str, Any]) -> dict[str, Any]:
        return {
            k: doc.get(k)
            for k in CaseDocument._doc_type.mapping.properties.to_dict()["properties"]
            if k != SPELL_FIELD
        }

    def _actions(self, docs: Iterable[dict[str, Any]], index: str) -> Iterator[dict[str, Any]]:
        for doc in docs:
            yield {
                "_op_type": "index",
                "_index": index,
                "_id": doc["id"],
                "_source": self._source(doc),
            }

    # Writing ------------------------------------------------------------------------------------
    def index(self, doc: dict[str, Any]) -> None:
        self.ensure_index()
        # A published (or edited, unpublished) case is searchable as it is when the task returns.
        # refresh=true rather than wait_for: single writes come one per curator action, so the
        # extra refresh is cheap, and wait_for would hold a worker up to refresh_interval (1 s)
        # per case. Bulk paths (index_many, rebuild) do not refresh per document.
        self.client.index(
            index=self.index_alias,
            id=str(doc["id"]),
            document=self._source(doc),
            refresh=True,
        )

    def index_many(self, docs: Iterable[dict[str, Any]]) -> int:
        self.ensure_index()
        return self.bulk(self._actions(docs, self.index_alias))

    def delete(self, case_id: int) -> None:
        try:
            self.client.delete(index=self.index_alias, id=str(case_id), refresh=True)
        except self.not_found_error:
            pass  # not indexed (or no index yet): already as wanted

    def rebuild(self, docs: Iterable[dict[str, Any]]) -> int:
        """Fill a fresh index, then swap the alias in one atomic action and drop the old ones."""
        new = self._new_index_name()
        self.client.indices.create(index=new, **self.index_body())
        try:
            ok = self.bulk(self._actions(docs, new))
            self.client.indices.refresh(index=new)
        except Exception:
            self.client.indices.delete(index=new, ignore_unavailable=True)
            raise
        old = self._indices_behind_alias()
        if not old and self.client.indices.exists(index=self.index_alias):
            # A concrete index squats the alias name (e.g. made by a write without an alias).
            self.client.indices.delete(index=self.index_alias)
        actions = [{"remove": {"index": i, "alias": self.index_alias}} for i in old]
        actions.append({"add": {"index": new, "alias": self.index_alias}})
        self.update_aliases(actions)
        for i in old:
            self.client.indices.delete(index=i, ignore_unavailable=True)
        return ok

    def clear(self) -> None:
        self.ensure_index()
        self.delete_all(self.index_alias)

    def refresh(self) -> None:
        if self.client.indices.exists_alias(name=self.index_alias):
            self.client.indices.refresh(index=self.index_alias)

    # Reading ------------------------------------------------------------------------------------
    def corrected_texts(self, text: str) -> list[str]:
        """``text``, then the same query with each unknown word replaced by a known one near it.

        The rule is the database backend's (``query_concepts``, ``close_terms``): a word found
        in any case is never corrected (so "appendicitis" stays itself), nor an abbreviation or
        a code; an unknown one gets at most three known words within ``max_edits`` (a
        transposition counts as one edit). Elasticsearch finds them: a ``term`` suggester in
        ``missing`` mode on the unstemmed ``spell`` field, one request before the search.
        """
        concepts = query_concepts(text)
        unknown = {i: fold(word) for i, (_, word) in enumerate(concepts) if word is not None}
        if not unknown:
            return [text]
        s = Search(using=self.client, index=self.index_alias).extra(size=0, track_total_hits=False)
        for i, word in unknown.items():
            s = s.suggest(
                f"w{i}",
                word,
                term={
                    "field": SPELL_FIELD,
                    "suggest_mode": "missing",
                    "max_edits": max_edits(word),
                    # A typo in the first letter is rare; fixing it makes the suggester walk
                    # every term of the vocabulary.
                    "prefix_length": 1,
                    "min_word_length": 4,
                    "string_distance": "damerau_levenshtein",
                    "size": 10,
                },
            )
        try:
            suggest = self.execute(s).to_dict().get("suggest", {})
        except self.bad_request_error:
            # An index built before the spell field existed: search without corrections
            # rather than fail every search until it is rebuilt.
            logger.warning("Typos are not corrected: run `manage.py search_index --rebuild`.")
            return [text]
        choices: list[list[str]] = []
        for i, (concept, _) in enumerate(concepts):
            near = []
            if i in unknown:
                options = [o["text"] for e in suggest.get(f"w{i}", []) for o in e["options"]]
                words = [o for o in options if o.isalpha()]
                near = close_terms(unknown[i], words, limit=CORRECTIONS_PER_WORD)
            choices.append([" ".join(concept.original), *near])
        if all(len(c) == 1 for c in choices):
            return [text]
        combos = itertools.islice(itertools.product(*choices), 1, MAX_QUERY_VARIANTS)
        return [text, *(" ".join(combo) for combo in combos)]

    @staticmethod
    def _text_query(texts: list[str]):
        """Cases matching any of ``texts`` (the query as typed, then with its typos corrected):
        every word of one of them, in any text field, with the diagnosis synonyms."""
        fields = [f"{f}^{b}" for f, b in FIELD_BOOSTS.items()]
        code = texts[0].strip().lower()
        diagnosis_fields = ["diagnosis", "diagnosis_terms"]
        czech_diagnosis = ["diagnosis.cs", "diagnosis_terms.cs"]
        should = [Q("term", icd10={"value": code, "boost": 20})]
        on_diagnosis = [Q("term", icd10=code)]
        for text in texts:
            should.append(
                Q(
                    "multi_match",
                    query=text,
                    fields=fields,
                    type="cross_fields",
                    operator="and",
                    analyzer=SEARCH_ANALYZER,
                )
            )
            should.append(
                Q(
                    "multi_match",
                    query=text,
                    fields=[f"{f}^{b}" for f, b in CZECH_BOOSTS.items()],
                    type="cross_fields",
                    operator="and",
                )
            )
            on_diagnosis.append(
                Q(
                    "multi_match",
                    query=text,
                    fields=diagnosis_fields,
                    analyzer=SEARCH_ANALYZER,
                    operator="or",
                )
            )
            on_diagnosis.append(
                Q("multi_match", query=text, fields=czech_diagnosis, operator="and")
            )
        diagnosis_first = Q(
            "constant_score",
            filter=Q("bool", should=on_diagnosis, minimum_should_match=1),
            boost=DIAGNOSIS_FIRST_BOOST,
        )
        matched = Q("bool", should=should, minimum_should_match=1)
        return Q("bool", must=[matched], should=[diagnosis_first])

    @staticmethod
    def _filter(filters: dict[str, tuple[str, ...]], skip: str | None = None):
        clauses = [
            Q("terms", **{FACET_FIELDS[name]: list(values)})
            for name, values in filters.items()
            if name != skip and values and name in FACET_FIELDS
        ]
        return Q("bool", filter=clauses) if clauses else Q("match_all")

    def build_search(self, query: SearchQuery, texts: list[str] | None = None) -> Search:
        """The search request; ``texts``: the query text and its corrections
        (``corrected_texts``), by default the text alone."""
        filters = dict(query.filters)
        s = Search(using=self.client, index=self.index_alias)
        highlight_query = None
        if query.text:
            texts = texts or [query.text]
            s = s.query(self._text_query(texts))
            # The highlighter finds no terms in a cross_fields query over a synonym graph, so
            # the words themselves (stemmed, as indexed) are marked too.
            words = [
                Q("multi_match", query=t, fields=list(HIGHLIGHT), analyzer="ta_text") for t in texts
            ]
            highlight_query = Q("bool", should=[s.query._proxied, *words]).to_dict()
        else:
            s = s.query(Q("match_all"))
        if filters:
            s = s.post_filter(self._filter(filters))
        for facet in FACETS:
            agg = A("filter", filter=self._filter(filters, skip=facet.name))
            agg.bucket(
                "values",
                "terms",
                field=FACET_FIELDS[facet.name],
                size=facet.max_values,
                exclude=[""],
                order=[{"_count": "desc"}, {"_key": "asc"}],
            )
            s.aggs.bucket(facet.name, agg)
        s = s.highlight_options(
            encoder="html",
            pre_tags=["<mark>"],
            post_tags=["</mark>"],
            fragment_size=120,
            **({"highlight_query": highlight_query} if highlight_query else {}),
        )
        for field, fragments in HIGHLIGHT.items():
            s = s.highlight(field, number_of_fragments=fragments)
        s = s.sort(
            "_score", {"published_at": {"order": "desc", "missing": "_last"}}, {"id": "desc"}
        )
        s = s.extra(track_total_hits=True)
        s = s.source(["id", "title", "diagnosis", "modality", "body_region"])
        return s[query.offset : query.offset + query.page_size]

    def search(self, query: SearchQuery) -> SearchResults:
        self.ensure_index()
        texts = self.corrected_texts(query.text) if query.text else None
        response = self.execute(self.build_search(query, texts))
        hits = []
        for h in response.hits:
            highlight = getattr(h.meta, "highlight", None)
            highlights = {}
            if highlight is not None:
                for field in HIGHLIGHT:
                    fragments = getattr(highlight, field, None)
                    if fragments:
                        highlights[field] = " … ".join(fragments)
            hits.append(
                SearchHit(
                    id=int(h.id),
                    title=h.title,
                    diagnosis=h.diagnosis or None,
                    modality=h.modality,
                    body_region=h.body_region,
                    highlights=highlights,
                    score=h.meta.score or 0.0,
                )
            )
        facets = {}
        for facet in FACETS:
            selected = query.filters.get(facet.name, ())
            buckets = response.aggregations[facet.name]["values"]["buckets"]
            values = [
                FacetValue(value=b["key"], count=b["doc_count"], selected=b["key"] in selected)
                for b in buckets
            ]
            seen = {v.value for v in values}
            values += [FacetValue(v, 0, True) for v in selected if v not in seen]
            facets[facet.name] = values
        return SearchResults(total=response.hits.total.value, hits=hits, facets=facets)

    def suggest(self, prefix: str, limit: int = 10) -> list[dict[str, str]]:
        p = " ".join(prefix.split())[:100]
        if len(p) < 2:
            return []
        self.ensure_index()
        s = Search(using=self.client, index=self.index_alias).extra(size=0)
        diag_q = Q(
            "multi_match",
            query=p,
            fields=["diagnosis.suggest", "diagnosis_terms.suggest"],
            operator="and",
        )
        tag_q = Q("match", **{"tags.suggest": {"query": p, "operator": "and"}})
        s = s.query(Q("bool", should=[diag_q, tag_q], minimum_should_match=1))
        s.aggs.bucket("diagnoses", "filter", filter=diag_q).bucket(
            "names",
            "terms",
            field="diagnosis.raw",
            size=limit,
            exclude=[""],
            order=[{"_key": "asc"}],
        )
        s.aggs.bucket("tags", "filter", filter=tag_q).bucket(
            "names",
            "terms",
            field="tags",
            size=limit,
            include=_ci_prefix_regex(p.lower()),
            order=[{"_key": "asc"}],
        )
        aggs = self.execute(s).aggregations
        out = [{"text": b["key"], "kind": "diagnosis"} for b in aggs.diagnoses.names.buckets]
        out += [{"text": b["key"], "kind": "tag"} for b in aggs.tags.names.buckets]
        return out[:limit]


__all__ = ["CaseDocument", "ElasticsearchSearchBackend", "TEXT_FIELDS"]
