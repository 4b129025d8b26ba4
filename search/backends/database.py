"""Database search: PostgreSQL full-text search or SQLite FTS5, chosen by ``connection.vendor``.

Both keep one ``SearchEntry`` row per published case (facet values as columns, tags in
``SearchEntryTag``) and differ only in the text engine: a weighted ``tsvector`` with a GIN index,
``ts_rank``/``ts_headline`` and pg_trgm on PostgreSQL; an FTS5 table with ``bm25``,
``highlight``/``snippet`` and an FTS5 trigram vocabulary on SQLite. Queries are expanded the same
way on both (``search.synonyms``): synonym groups and typo corrections become OR alternatives,
the words of a query are ANDed. Each facet's counts are computed with the selections of the
*other* facets only, so multi-select counts stay right: on SQLite by SQL ``GROUP BY`` queries; on
PostgreSQL with numpy over the facet codes of the whole index, held in the process per index
token (``FacetColumns``), the database giving only the ranked matches of the text.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from django.core.cache import caches
from django.db import connections, transaction

from ..documents import TEXT_FIELDS, document_vocabulary
from ..facets import FACETS
from ..models import SearchEntry, SearchEntryTag, SearchIndexState, SearchTerm
from ..synonyms import Concept, close_terms, query_concepts, synonym_table
from .base import BaseSearchBackend, FacetValue, SearchHit, SearchQuery, SearchResults

HL_START, HL_STOP = "[[hl]]", "[[/hl]]"
BATCH_SIZE = 1000
BULK_WRITE = 5000  # documents written at once after which the engine refreshes statistics
ENTRY_TABLE = SearchEntry._meta.db_table
TAG_TABLE = SearchEntryTag._meta.db_table
TERM_TABLE = SearchTerm._meta.db_table
STATE_TABLE = SearchIndexState._meta.db_table
FACET_COLUMNS = {f.name: f.name for f in FACETS if not f.multi_valued}
HIGHLIGHT_FIELDS = ("title", "diagnosis", "findings", "history")


def marked_html(text: str) -> str:
    """Escape ``text`` for HTML, then turn the engine's highlight sentinels into ``<mark>``."""
    escaped = html.escape(text, quote=True)
    return escaped.replace(html.escape(HL_START), "<mark>").replace(html.escape(HL_STOP), "</mark>")


class TextEngine:
    """The vendor-specific half: how text is stored, matched, ranked and highlighted."""

    def __init__(self, using: str) -> None:
        self.using = using

    def prepare(self, cursor) -> str | None:
        """Session tweaks for one search (inside its own transaction); the index token."""
        cursor.execute(f"SELECT token FROM {STATE_TABLE} WHERE id = 1")
        row = cursor.fetchone()
        return row[0] if row else None

    def write(self, cursor, docs: Sequence[dict[str, Any]]) -> None:
        raise NotImplementedError

    def remove(self, cursor, ids: Sequence[int]) -> None:
        raise NotImplementedError

    def clear(self, cursor) -> None:
        raise NotImplementedError

    def add_vocabulary(self, cursor, words: set[str]) -> None:
        SearchTerm.objects.using(self.using).bulk_create(
            [SearchTerm(term=w[:64]) for w in sorted(words)], ignore_conflicts=True, batch_size=2000
        )

    def fuzzy_candidates(self, cursor, term: str) -> list[str]:
        raise NotImplementedError

    def compile(self, concepts: list[Concept]) -> Any:
        """The engine's query for ``concepts`` (all required), or None if nothing to match."""
        raise NotImplementedError

    def match_sql(self, compiled: Any) -> tuple[str, list[Any]]:
        raise NotImplementedError

    def ranked_ids(self, cursor, compiled, where: str, params: list, limit: int, offset: int):
        raise NotImplementedError

    def highlights(self, cursor, compiled, ids: Sequence[int]) -> dict[int, dict[str, str]]:
        raise NotImplementedError

    def after_bulk_write(self, cursor) -> None:
        """Called after many documents were written (statistics, for instance)."""

    # Optional: ``search_page(cursor, compiled, filters, limit, offset, token)`` →
    # (total, {facet: [(value, count)]}, [(case_id, score)]) in one go; None → the generic
    # queries below (a COUNT, one GROUP BY per facet, a ranked page).
    search_page = None


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


# Published time (µs) standing for NULL where newest-first puts NULLs last; negatable.
NO_TIME = -(2**62)


class ProcessMemory:
    """A small least-recently-used store shared by the threads of one process.

    Keys carry the index token, so an entry is never used after a write; ``budget`` is in
    whatever unit ``put`` is given (documents, here), entries beyond it are dropped oldest first.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Any, value: Any, size: int) -> None:
        with self._lock:
            if size > self.budget:
                return
            old = self._items.pop(key, None)
            if old is not None:
                self._used -= old[1]
            self._items[key] = (value, size)
            self._used += size
            while self._used > self.budget:
                _, (_, dropped) = self._items.popitem(last=False)
                self._used -= dropped

    def forget(self, stale: Callable[[Any], bool]) -> None:
        with self._lock:
            for key in [k for k in self._items if stale(k)]:
                self._used -= self._items.pop(key)[1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._used = 0


# Facet columns of the whole index, per (database, index token): a few MB per 100k documents.
FACET_MEMORY = ProcessMemory(budget=4)
# Ranked matches per (database, index token, columns, text query), in documents (13 bytes each).
TEXT_MEMORY = ProcessMemory(budget=2_000_000)
# Each query text's expanded concepts (synonyms, near spellings), per index token: counted in
# texts. Expanding costs a statement per word (is it known? which known words are near?).
CONCEPT_MEMORY = ProcessMemory(budget=5_000)
CONCEPT_MEMORY.table = None  # the synonym table the kept concepts were expanded with


class FacetColumns:
    """Every indexed document's facet codes as arrays, as of one index token.

    Position ``i`` is one document: ``case_ids[i]``, ``published[i]`` (µs, ``NO_TIME`` if
    none), one code array per single-valued facet (0 = no value) and its tags as
    (``tag_rows``, ``tag_codes``) pairs. Counting a facet over any set of positions is then one
    ``bincount``.
    """

    RECORD = np.dtype(
        [("case_id", ">i8"), ("published", ">i8")]
        + [(c, ">i4") for c in FACET_COLUMNS]
        + [("tags", ">i4")]
    )
    TAG = np.dtype([("length", ">i4"), ("code", ">i4")])

    _serials = itertools.count()

    def __init__(
        self, token: str | None, docs: bytes, tags: bytes, codes: Sequence[tuple[int, str, str]]
    ) -> None:
        self.token = token
        # Positions are only valid for this instance (another read may list rows in another
        # order), so what is computed from them is kept under this number.
        self.serial = next(self._serials)
        # Codes come from a sequence that every write advances (ON CONFLICT still draws a
        # number), so they are renumbered 1..n here: counts are arrays of n + 1, not max(code).
        codes = sorted(codes)
        known = np.array([c[0] for c in codes], dtype=np.int64)

        def dense(raw: np.ndarray) -> np.ndarray:
            return np.where(raw > 0, np.searchsorted(known, raw) + 1, 0).astype(np.int32)

        records = np.frombuffer(docs, dtype=self.RECORD)
        self.case_ids = records["case_id"].astype(np.int64)
        # Microseconds since 2000 (PostgreSQL's own timestamptz), NO_TIME where there is none.
        self.published = records["published"].astype(np.int64)
        self.facets = {c: dense(records[c].astype(np.int64)) for c in FACET_COLUMNS}
        self.by_id = np.argsort(self.case_ids)
        self.sorted_ids = self.case_ids[self.by_id]
        self.tag_rows = np.repeat(np.arange(len(records)), records["tags"].astype(np.int64))
        self.tag_codes = dense(np.frombuffer(tags, dtype=self.TAG)["code"].astype(np.int64))
        # ORDER BY published_at DESC, case_id DESC (PostgreSQL puts NULLs first there).
        undated = self.published == NO_TIME
        self.newest_first = np.lexsort((-self.case_ids, -self.published, ~undated))
        self.values = {i: (facet, value) for i, (_, facet, value) in enumerate(codes, 1)}
        self.code_of = {(facet, value): i for i, (_, facet, value) in enumerate(codes, 1)}
        self.size = len(codes) + 1

    def positions(self, case_ids: np.ndarray) -> np.ndarray:
        """Where each case id is held (-1: not held)."""
        if not len(self.sorted_ids):
            return np.full(len(case_ids), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.sorted_ids, case_ids), len(self.sorted_ids) - 1)
        return np.where(self.sorted_ids[at] == case_ids, self.by_id[at], -1)

    def rank(self, ids: bytes | None, ranks: bytes | None, dm: bytes | None):
        """(positions best first, their scores) from the packed ids, ``ts_rank`` values and
        diagnosis-match flags of the matching documents, in PostgreSQL's ranked order:
        diagnosis matches first, then rank, newest (no date last), highest id."""
        if not ids:
            return np.empty(0, dtype=np.int64), (np.empty(0, np.float32), np.empty(0, bool))
        case_ids = np.frombuffer(ids, dtype=">i8").astype(np.int64)
        rank = np.frombuffer(ranks, dtype=">f4").astype(np.float32)
        diagnosis = np.frombuffer(dm, dtype=np.uint8).astype(bool)
        pos = self.positions(case_ids)
        # A document indexed after these columns were read is left out (a newer token has it).
        known = pos >= 0
        pos, rank, diagnosis = pos[known], rank[known], diagnosis[known]
        order = np.lexsort((-self.case_ids[pos], -self.published[pos], -rank, ~diagnosis))
        return pos[order], (rank[order], diagnosis[order])

    def count_and_page(self, order, scores, filters, limit: int, offset: int):
        """Total, {facet: [(value, count)]} and [(case_id, score)] of one page.

        ``order``: positions of the matches, best first. A facet's counts take the rows that
        pass every *other* facet's selection (multi-select within a facet is OR).
        """
        passes: list[tuple[str, np.ndarray]] = []
        for name, values in filters.items():
            if not values or (name != "tags" and name not in FACET_COLUMNS):
                continue
            wanted = np.zeros(self.size, dtype=bool)
            wanted[[self.code_of[(name, v)] for v in values if (name, v) in self.code_of]] = True
            wanted[0] = False
            if name == "tags":
                has = np.zeros(len(self.case_ids), dtype=bool)
                has[self.tag_rows[wanted[self.tag_codes]]] = True
                passes.append((name, has[order]))
            else:
                passes.append((name, wanted[self.facets[name][order]]))
        failed = np.zeros(len(order), dtype=np.int8)
        for _, ok in passes:
            failed += ~ok
        every = failed == 0
        # Per selected facet: the positions passing every other facet's selection.
        kept = {name: order[every | ((failed == 1) & ~ok)] for name, ok in passes}
        passing = order[every] if passes else order

        rows: dict[str, list[tuple[str, int]]] = {}

        def add(counts: np.ndarray) -> None:
            for code in np.flatnonzero(counts[1:]) + 1:
                facet, value = self.values[int(code)]
                rows.setdefault(facet, []).append((value, int(counts[code])))

        for name in FACET_COLUMNS:
            add(np.bincount(self.facets[name][kept.get(name, passing)], minlength=self.size))
        member = np.zeros(len(self.case_ids), dtype=bool)
        member[kept.get("tags", passing)] = True
        add(np.bincount(self.tag_codes[member[self.tag_rows]], minlength=self.size))

        page = slice(offset, offset + limit)
        ids = self.case_ids[passing[page]]
        if scores is None:
            ranked = [(int(i), 0.0) for i in ids]
        else:
            rank, diagnosis = scores[0][every][page], scores[1][every][page]
            # The score as the driver reads a real from PostgreSQL (its shortest decimal).
            ranked = [
                (int(i), float(str(r)) + (1.0 if d else 0.0))
                for i, r, d in zip(ids, rank, diagnosis, strict=True)
            ]
        return int(every.sum()), rows, ranked


class PostgresTextEngine(TextEngine):
    """Matching and ranking on the narrow ``search_doc`` rows (migration 0004); facet counts
    and pages over ``FacetColumns`` read from the same rows."""

    config = "english"
    doc_table = "search_doc"
    code_table = "search_facet_code"
    vector_sql = (
        "setweight(to_tsvector('english', coalesce(e.diagnosis, '') || ' ' || "
        "coalesce(e.diagnosis_terms, '')), 'A') || "
        "setweight(to_tsvector('english', coalesce(e.title, '') || ' ' || "
        "coalesce(e.tags_text, '')), 'B') || "
        "setweight(to_tsvector('english', coalesce(e.findings, '') || ' ' || "
        "coalesce(e.anatomy, '') || ' ' || coalesce(e.history, '')), 'C') || "
        "setweight(to_tsvector('english', coalesce(e.discussion, '')), 'D')"
    )
    # The weight-A part alone: the same lexemes and positions ts_filter(vector, '{a}') keeps.
    diagnosis_vector_sql = (
        "setweight(to_tsvector('english', coalesce(e.diagnosis, '') || ' ' || "
        "coalesce(e.diagnosis_terms, '')), 'A')"
    )

    def prepare(self, cursor):
        # JIT compiling costs tens of ms on these short queries over a large table; the
        # matches of a broad query (~100k small rows) should stay in memory, not spill to disk.
        # Both as SET LOCAL (set_config(..., true) lasts until the commit), in the round trip
        # that reads the index token: under load every statement of a search costs a
        # scheduling slice or two.
        cursor.execute(
            "SELECT set_config('jit', 'off', true), set_config('work_mem', '32MB', true), "
            f"(SELECT token FROM {STATE_TABLE} WHERE id = 1)"
        )
        return cursor.fetchone()[2]

    def write(self, cursor, docs):
        ids = [d["id"] for d in docs]
        values = ", ".join(f"('{c}', e.{c}::text)" for c in FACET_COLUMNS)
        cursor.execute(
            f"INSERT INTO {self.code_table} (facet, value) "
            f"SELECT x.facet, x.value FROM {ENTRY_TABLE} e "
            f"CROSS JOIN LATERAL (VALUES {values}) AS x (facet, value) "
            "WHERE e.case_id = ANY(%s) AND x.value <> '' "
            f"UNION SELECT 'tags', t.name FROM {TAG_TABLE} t WHERE t.entry_id = ANY(%s) "
            "ON CONFLICT DO NOTHING",
            [ids, ids],
        )
        codes = "".join(
            f"(SELECT c.code FROM {self.code_table} c WHERE c.facet = '{col}' "
            f"AND c.value = e.{col}), "
            for col in FACET_COLUMNS
        )
        # The entries were just (re)created, which removed their old rows here (ON DELETE CASCADE).
        # Rows are written grouped by diagnosis: a text names a diagnosis far more often than
        # not, so its matches (and the rows ``ts_rank`` reads) share a few pages per batch
        # instead of one page each. At 100,000 cases the first ranking of a text read ~1,700
        # pages for "PE" instead of ~4,700 (~5,500 matches), and took ~35 % less time.
        cursor.execute(
            f"INSERT INTO {self.doc_table} (case_id, published_at, {', '.join(FACET_COLUMNS)}, "
            "tags, dx_vector, search_vector) "
            f"SELECT e.case_id, e.published_at, {codes}"
            f"ARRAY(SELECT c.code FROM {TAG_TABLE} t JOIN {self.code_table} c "
            "ON c.facet = 'tags' AND c.value = t.name WHERE t.entry_id = e.case_id "
            "ORDER BY c.code), "
            f"{self.diagnosis_vector_sql}, {self.vector_sql} "
            f"FROM {ENTRY_TABLE} e WHERE e.case_id = ANY(%s) ORDER BY e.diagnosis, e.case_id",
            [ids],
        )

    def remove(self, cursor, ids):
        pass  # ON DELETE CASCADE from the entry row

    def clear(self, cursor):
        pass

    def after_bulk_write(self, cursor):
        # Fresh statistics, so the planner sees how common each word and facet value is.
        cursor.execute(
            f"ANALYZE {self.doc_table}, {self.code_table}, {ENTRY_TABLE}, {TAG_TABLE}, {TERM_TABLE}"
        )

    def fuzzy_candidates(self, cursor, term):
        cursor.execute(
            f"SELECT term FROM {TERM_TABLE} WHERE term %% %s "
            "ORDER BY similarity(term, %s) DESC LIMIT 30",
            [term, term],
        )
        return [r[0] for r in cursor.fetchall()]

    @staticmethod
    def _tsquery(concepts: list[Concept], op: str) -> str:
        parts = []
        for c in concepts:
            alts = [" <-> ".join(f"'{w}'" for w in alt) for alt in c.alternatives if alt]
            parts.append("(" + " | ".join(f"({a})" for a in alts) + ")")
        return f" {op} ".join(parts)

    def compile(self, concepts):
        if not concepts:
            return None
        return (self._tsquery(concepts, "&"), self._tsquery(concepts, "|"))

    def search_page(self, cursor, compiled, filters, limit, offset, token):
        """Total, every facet's counts and one ranked page, from the archive's facet columns.

        Counting facets is a pass over every match per facet; a broad query (or none) matches
        most of the archive, and PostgreSQL needed 15-40 ms per facet for that. So the facet
        codes of all documents are held in this process as arrays (``FacetColumns``, loaded once
        per index token), the database only says which documents match the text and how they
        rank (one statement; kept in ``TEXT_MEMORY`` per text for the same columns), and totals,
        counts and the page are taken with numpy over those arrays, in the same order and with
        the same multi-select rule as before (each facet counted with the other facets'
        selections only).
        """
        columns = self._facet_columns(cursor, token)
        if compiled is None:
            order = columns.newest_first
            scores = None
        else:
            order, scores = self._text_matches(cursor, columns, compiled)
        return columns.count_and_page(order, scores, filters, limit, offset)

    def _facet_columns(self, cursor, token: str | None) -> FacetColumns:
        name = self.connection_name()
        if token is not None:
            found = FACET_MEMORY.get((name, token))
            if found is not None:
                return found
        # One statement (one snapshot) for the token and the columns, each packed as binary:
        # one fixed-size record per document, one (case id, tag code) pair per tag.
        record = " || ".join(
            [
                "int8send(d.case_id)",
                f"coalesce(timestamptz_send(d.published_at), int8send({NO_TIME}))",
                *(f"int4send(coalesce(d.{c}, 0))" for c in FACET_COLUMNS),
                "int4send(cardinality(d.tags))",
            ]
        )
        # array_send: a 20-byte header, then (length, value) per element.
        cursor.execute(
            f"SELECT (SELECT token FROM {STATE_TABLE} WHERE id = 1), "
            f"string_agg({record}, ''::bytea), "
            "string_agg(substring(array_send(d.tags) FROM 21), ''::bytea) "
            f"FROM {self.doc_table} d"
        )
        token, docs, tags = cursor.fetchone()
        cursor.execute(f"SELECT code, facet, value FROM {self.code_table}")
        columns = FacetColumns(token, bytes(docs or b""), bytes(tags or b""), cursor.fetchall())
        if token is not None:
            FACET_MEMORY.put((name, token), columns, 1)
            # Matches ranked against older columns of this database will never be read again.
            TEXT_MEMORY.forget(lambda k: k[0] == name and k[2] != columns.serial)
        return columns

    def _text_matches(self, cursor, columns: FacetColumns, compiled):
        """Positions (in ``columns``) of the documents matching ``compiled``, best first, and
        their scores: diagnosis matches first, then ``ts_rank``, newest, highest id."""
        key = (self.connection_name(), columns.token, columns.serial, compiled)
        if columns.token is not None:
            found = TEXT_MEMORY.get(key)
            if found is not None:
                return found
        # The planner over-estimates a query of several OR-ed phrases (synonyms, spellings,
        # plurals) and reads every document instead of the GIN index: 120-170 ms instead of
        # 30 ms for "pneumothorax" at 100,000 cases; the index was faster even for a word in
        # most documents ("mass": 67 vs 93 ms). Set in the same round trip as the queries' text
        # (SET LOCAL), reset after the ranking statement.
        cursor.execute(
            f"SELECT to_tsquery('{self.config}', %s)::text, to_tsquery('{self.config}', %s)::text, "
            "set_config('enable_seqscan', 'off', true)",
            [compiled[0], compiled[1]],
        )
        q_and, q_or, _ = cursor.fetchone()
        # Three aggregates over the same rows in the same order, packed as binary: turning 80k
        # rows into Python tuples (or parsing 80k decimals) costs more than the search itself.
        cursor.execute(
            "SELECT string_agg(int8send(d.case_id), ''::bytea), "
            "string_agg(float4send(ts_rank(d.search_vector, q_and)), ''::bytea), "
            "string_agg(CASE WHEN d.dx_vector @@ q_or THEN '\\x01'::bytea "
            "ELSE '\\x00'::bytea END, ''::bytea), "
            f"(SELECT token FROM {STATE_TABLE} WHERE id = 1) "
            f"FROM {self.doc_table} d, CAST(%s AS tsquery) q_and, CAST(%s AS tsquery) q_or "
            "WHERE d.search_vector @@ q_and",
            [q_and, q_or],
        )
        ids, ranks, dm, token = cursor.fetchone()
        cursor.execute("SELECT set_config('enable_seqscan', 'on', true)")
        found = columns.rank(*(bytes(v) if v is not None else None for v in (ids, ranks, dm)))
        # Kept only if no write came between reading the columns and the matches.
        if columns.token is not None and token == columns.token:
            TEXT_MEMORY.put(key, found, len(found[0]))
        return found

    def connection_name(self) -> str:
        return connections[self.using].settings_dict["NAME"]

    def highlights(self, cursor, compiled, ids):
        if not ids:
            return {}
        whole = f'StartSel="{HL_START}", StopSel="{HL_STOP}", HighlightAll=true'
        frag = (
            f'StartSel="{HL_START}", StopSel="{HL_STOP}", MaxFragments=2, MaxWords=18, '
            'MinWords=6, FragmentDelimiter=" … "'
        )
        # Only the page's rows, never every match.
        cursor.execute(
            "SELECT e.case_id, "
            "ts_headline('english', e.title, q, %s), ts_headline('english', e.diagnosis, q, %s), "
            "ts_headline('english', e.findings, q, %s), ts_headline('english', e.history, q, %s) "
            f"FROM {ENTRY_TABLE} e, to_tsquery('english', %s) q "
            f"WHERE e.case_id IN ({_placeholders(ids)})",
            [whole, whole, frag, frag, compiled[1], *ids],
        )
        return {row[0]: dict(zip(HIGHLIGHT_FIELDS, row[1:], strict=True)) for row in cursor}


class SQLiteTextEngine(TextEngine):
    fts_table = "search_fts"
    trigram_table = "search_term_trigram"
    # bm25 weights, in the column order of TEXT_FIELDS.
    weights = {
        "title": 5.0,
        "diagnosis": 10.0,
        "diagnosis_terms": 10.0,
        "tags_text": 3.0,
        "anatomy": 1.0,
        "findings": 2.0,
        "history": 1.5,
        "discussion": 0.5,
    }

    def write(self, cursor, docs):
        self.remove(cursor, [d["id"] for d in docs])
        cols, marks = ", ".join(TEXT_FIELDS), _placeholders(TEXT_FIELDS)
        cursor.executemany(
            f"INSERT INTO {self.fts_table}(rowid, {cols}) VALUES (%s, {marks})",
            [[d["id"], *[str(d.get(f) or "") for f in TEXT_FIELDS]] for d in docs],
        )

    def remove(self, cursor, ids):
        if ids:
            cursor.execute(
                f"DELETE FROM {self.fts_table} WHERE rowid IN ({_placeholders(ids)})", list(ids)
            )

    def clear(self, cursor):
        cursor.execute(f"DELETE FROM {self.fts_table}")

    def add_vocabulary(self, cursor, words):
        super().add_vocabulary(cursor, words)
        cursor.execute(
            f"INSERT INTO {self.trigram_table}(rowid, term) SELECT id, term FROM {TERM_TABLE} "
            f"WHERE id NOT IN (SELECT rowid FROM {self.trigram_table})"
        )

    def fuzzy_candidates(self, cursor, term):
        grams = {term[i : i + 3] for i in range(len(term) - 2)}
        if not grams:
            return []
        match = " OR ".join(f'"{g}"' for g in sorted(grams))
        cursor.execute(
            f"SELECT term FROM {self.trigram_table} WHERE {self.trigram_table} MATCH %s "
            "ORDER BY rank LIMIT 50",
            [match],
        )
        return [r[0] for r in cursor.fetchall()]

    @staticmethod
    def _fts(concepts: list[Concept], op: str) -> str:
        parts = []
        for c in concepts:
            alts = ['"' + " ".join(alt) + '"' for alt in c.alternatives if alt]
            parts.append("(" + " OR ".join(alts) + ")")
        return f" {op} ".join(parts)

    def compile(self, concepts):
        if not concepts:
            return None
        return (self._fts(concepts, "AND"), self._fts(concepts, "OR"))

    def match_sql(self, compiled):
        return (
            f"e.case_id IN (SELECT rowid FROM {self.fts_table} WHERE {self.fts_table} MATCH %s)",
            [compiled[0]],
        )

    def ranked_ids(self, cursor, compiled, where, params, limit, offset):
        weights = ", ".join(str(self.weights[f]) for f in TEXT_FIELDS)
        t = self.fts_table
        cursor.execute(
            f"SELECT e.case_id, "
            f"(e.case_id IN (SELECT rowid FROM {t} WHERE {t} MATCH %s)) AS dm, "
            f"bm25({t}, {weights}) AS rank "
            f"FROM {t} JOIN {ENTRY_TABLE} e ON e.case_id = {t}.rowid "
            f"WHERE {t} MATCH %s AND {where} "
            "ORDER BY dm DESC, rank ASC, e.published_at DESC, e.case_id DESC LIMIT %s OFFSET %s",
            [
                "{diagnosis diagnosis_terms} : (" + compiled[1] + ")",
                compiled[0],
                *params,
                limit,
                offset,
            ],
        )
        return [(row[0], -float(row[2]) + (1000.0 if row[1] else 0.0)) for row in cursor]

    def highlights(self, cursor, compiled, ids):
        if not ids:
            return {}
        t = self.fts_table
        col = {f: i for i, f in enumerate(TEXT_FIELDS)}
        s, e = HL_START, HL_STOP
        cursor.execute(
            f"SELECT rowid, highlight({t}, {col['title']}, %s, %s), "
            f"highlight({t}, {col['diagnosis']}, %s, %s), "
            f"snippet({t}, {col['findings']}, %s, %s, ' … ', 16), "
            f"snippet({t}, {col['history']}, %s, %s, ' … ', 16) "
            f"FROM {t} WHERE {t} MATCH %s AND rowid IN ({_placeholders(ids)})",
            [s, e, s, e, s, e, s, e, compiled[1], *ids],
        )
        return {row[0]: dict(zip(HIGHLIGHT_FIELDS, row[1:], strict=True)) for row in cursor}


ENGINES = {"postgresql": PostgresTextEngine, "sqlite": SQLiteTextEngine}


class DatabaseSearchBackend(BaseSearchBackend):
    """Search in the project's own database; no extra service to run."""

    def __init__(
        self,
        alias: str = "database",
        DATABASE: str = "default",
        CACHE: str | None = "default",
        CACHE_TIMEOUT: int = 600,
        **options: Any,
    ):
        super().__init__(alias, **options)
        self.using = DATABASE
        # Pages already computed are kept in this Django cache (None: no caching), keyed by the
        # index token that every write changes, so a cached page is never older than the index.
        self.cache_alias = CACHE
        self.cache_timeout = CACHE_TIMEOUT

    @property
    def connection(self):
        return connections[self.using]

    @property
    def engine(self) -> TextEngine:
        vendor = self.connection.vendor
        try:
            return ENGINES[vendor](self.using)
        except KeyError as e:
            raise NotImplementedError(
                f"The database search backend supports PostgreSQL and SQLite, not {vendor}."
            ) from e

    # Writing ------------------------------------------------------------------------------------
    def index(self, doc: dict[str, Any]) -> None:
        self.index_many([doc])

    def index_many(self, docs: Iterable[dict[str, Any]]) -> int:
        n = 0
        batch: list[dict[str, Any]] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= BATCH_SIZE:
                n += self._write_batch(batch)
                batch = []
        if batch:
            n += self._write_batch(batch)
        if n >= BULK_WRITE:
            with self.connection.cursor() as cursor:
                self.engine.after_bulk_write(cursor)
        return n

    def _write_batch(self, docs: list[dict[str, Any]]) -> int:
        engine = self.engine
        ids = [d["id"] for d in docs]
        with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
            SearchEntry.objects.using(self.using).filter(case_id__in=ids).delete()
            SearchEntry.objects.using(self.using).bulk_create(
                [self._entry(d) for d in docs], batch_size=500
            )
            SearchEntryTag.objects.using(self.using).bulk_create(
                [SearchEntryTag(entry_id=d["id"], name=t[:64]) for d in docs for t in d["tags"]],
                batch_size=2000,
                ignore_conflicts=True,
            )
            engine.write(cursor, docs)
            self._touch(cursor)
            words: set[str] = set()
            for d in docs:
                words |= document_vocabulary(d)
            engine.add_vocabulary(cursor, words)
        return len(docs)

    @staticmethod
    def _entry(d: dict[str, Any]) -> SearchEntry:
        return SearchEntry(
            case_id=d["id"],
            title=d["title"][:200],
            diagnosis=d["diagnosis"][:200],
            diagnosis_ref=d["diagnosis_id"],
            diagnosis_terms=d["diagnosis_terms"],
            tags_text=d["tags_text"],
            anatomy=d["anatomy"],
            findings=d["findings"],
            history=d["history"],
            discussion=d["discussion"],
            modality=d["modality"] or "",
            body_region=d["body_region"] or "",
            organ_system=d["organ_system"] or "",
            icd_chapter=d.get("icd_chapter") or "",
            icd_block=d.get("icd_block") or "",
            level=d["level"] or "",
            age_group=d["age_group"] or "",
            sex=d["sex"] or "",
            quiz_mode=d["quiz_mode"],
            published_at=d["published_at"],
        )

    def delete(self, case_id: int) -> None:
        with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
            SearchEntry.objects.using(self.using).filter(case_id=case_id).delete()
            self.engine.remove(cursor, [case_id])
            self._touch(cursor)

    def _touch(self, cursor) -> None:
        """Give the index a new token (inside the writing transaction): cached pages expire."""
        cursor.execute(
            f"INSERT INTO {STATE_TABLE} (id, token) VALUES (1, %s) "
            "ON CONFLICT (id) DO UPDATE SET token = excluded.token",
            [uuid.uuid4().hex],
        )

    def rebuild(self, docs: Iterable[dict[str, Any]]) -> int:
        # One transaction: readers keep seeing the old entries until the new ones are committed.
        with transaction.atomic(using=self.using):
            with self.connection.cursor() as cursor:
                SearchEntry.objects.using(self.using).all().delete()
                self.engine.clear(cursor)
                self._touch(cursor)
            return self.index_many(docs)

    # Reading ------------------------------------------------------------------------------------
    def concepts(self, cursor, text: str, token: str | None = None) -> list[Concept]:
        """Synonym-expanded concepts, each single word also OR-ed with its near spellings.

        Kept per (database, index token, text) while the synonym table is the same: the words
        the index knows change only with a write (a new token), the synonyms with a new table."""
        table = synonym_table()
        if CONCEPT_MEMORY.table is not table:  # a new table (every minute, or after an edit)
            CONCEPT_MEMORY.clear()
            CONCEPT_MEMORY.table = table
        key = (self.connection.settings_dict["NAME"], token, text)
        if token is not None:
            found = CONCEPT_MEMORY.get(key)
            if found is not None:
                return found
        out = self._expand(cursor, table, text)
        if token is not None:
            CONCEPT_MEMORY.put(key, out, 1)
        return out

    def _expand(self, cursor, table, text: str) -> list[Concept]:
        engine = self.engine
        out = []
        for concept, term in query_concepts(text, table):
            alts = list(concept.alternatives)
            if term is not None:
                known = SearchTerm.objects.using(self.using).filter(term=term).exists()
                if not known:
                    for near in close_terms(term, engine.fuzzy_candidates(cursor, term), limit=3):
                        alts.append((near,))
            out.append(Concept(tuple(dict.fromkeys(alts))))
        return out

    @staticmethod
    def _filter_sql(
        filters: dict[str, tuple[str, ...]], skip: str | None = None
    ) -> tuple[str, list[Any]]:
        clauses, params = [], []
        for name, values in filters.items():
            if name == skip or not values:
                continue
            if name == "tags":
                clauses.append(
                    f"e.case_id IN (SELECT entry_id FROM {TAG_TABLE} "
                    f"WHERE name IN ({_placeholders(values)}))"
                )
            elif name in FACET_COLUMNS:
                clauses.append(f"e.{FACET_COLUMNS[name]} IN ({_placeholders(values)})")
            else:
                continue
            params.extend(values)
        return (" AND ".join(clauses) or "1=1"), params

    def search(self, query: SearchQuery) -> SearchResults:
        engine = self.engine
        filters = dict(query.filters)
        with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
            token = engine.prepare(cursor)
            compiled = (
                engine.compile(self.concepts(cursor, query.text, token)) if query.text else None
            )
            if query.text and compiled is None:
                return SearchResults(0, [], self._empty_facets(filters))
            cache, key = self._cache_key(token, compiled, filters, query)
            found = cache.get(key) if key else None
            if found is None:
                found = self._count_and_rank(engine, cursor, compiled, filters, query, token)
                if key:
                    cache.set(key, found, self.cache_timeout)
            total, facets, ranked = found
            ids = [i for i, _ in ranked]
            marks = engine.highlights(cursor, compiled, ids) if compiled else {}

        return self._results(total, facets, ranked, marks)

    def _cache_key(self, token, compiled, filters, query) -> tuple[Any, str | None]:
        if self.cache_alias is None or token is None:
            return None, None
        what = repr((compiled, sorted(filters.items()), query.page_size, query.offset))
        name = self.connection.settings_dict["NAME"]
        digest = hashlib.sha256(f"{name}|{token}|{what}".encode()).hexdigest()
        return caches[self.cache_alias], f"search-db:{digest}"

    def _count_and_rank(self, engine, cursor, compiled, filters, query, token):
        """(total, facets, [(case_id, score)] of the page) straight from the database."""
        if engine.search_page is not None:
            total, rows, ranked = engine.search_page(
                cursor, compiled, filters, query.page_size, query.offset, token
            )
            facets = {
                f.name: self._facet_values(
                    sorted(rows.get(f.name, []), key=lambda r: (-r[1], r[0]))[: f.max_values],
                    filters.get(f.name, ()),
                )
                for f in FACETS
            }
        else:
            match, match_params = engine.match_sql(compiled) if compiled else ("1=1", [])
            where, params = self._filter_sql(filters)
            cursor.execute(
                f"SELECT COUNT(*) FROM {ENTRY_TABLE} e WHERE {match} AND {where}",
                [*match_params, *params],
            )
            total = cursor.fetchone()[0]
            facets = self._facets(cursor, match, match_params, filters)
            if compiled:
                ranked = engine.ranked_ids(
                    cursor, compiled, where, params, query.page_size, query.offset
                )
            else:
                cursor.execute(
                    f"SELECT e.case_id FROM {ENTRY_TABLE} e WHERE {where} "
                    "ORDER BY e.published_at DESC, e.case_id DESC LIMIT %s OFFSET %s",
                    [*params, query.page_size, query.offset],
                )
                ranked = [(row[0], 0.0) for row in cursor.fetchall()]
        return total, facets, ranked

    def _results(self, total, facets, ranked, marks) -> SearchResults:
        # Only what a hit shows: the entry's long texts are matched and highlighted in SQL.
        entries = (
            SearchEntry.objects.using(self.using)
            .only("case_id", "title", "diagnosis", "modality", "body_region")
            .order_by()
            .in_bulk([i for i, _ in ranked])
        )
        hits = []
        for case_id, score in ranked:
            e = entries.get(case_id)
            if e is None:
                continue
            highlights = {
                field: marked_html(snippet)
                for field, snippet in marks.get(case_id, {}).items()
                if snippet and HL_START in snippet
            }
            hits.append(
                SearchHit(
                    id=case_id,
                    title=e.title,
                    diagnosis=e.diagnosis or None,
                    modality=e.modality,
                    body_region=e.body_region,
                    highlights=highlights,
                    score=score,
                )
            )
        return SearchResults(total=total, hits=hits, facets=facets)

    def _facets(self, cursor, match, match_params, filters) -> dict[str, list[FacetValue]]:
        out = {}
        for facet in FACETS:
            where, params = self._filter_sql(filters, skip=facet.name)
            if facet.multi_valued:
                sql = (
                    f"SELECT t.name, COUNT(*) FROM {TAG_TABLE} t "
                    f"JOIN {ENTRY_TABLE} e ON e.case_id = t.entry_id "
                    f"WHERE {match} AND {where} GROUP BY t.name "
                    "ORDER BY COUNT(*) DESC, t.name LIMIT %s"
                )
            else:
                col = f"e.{FACET_COLUMNS[facet.name]}"
                sql = (
                    f"SELECT {col}, COUNT(*) FROM {ENTRY_TABLE} e "
                    f"WHERE {match} AND {where} AND {col} <> '' GROUP BY {col} "
                    f"ORDER BY COUNT(*) DESC, {col} LIMIT %s"
                )
            cursor.execute(sql, [*match_params, *params, facet.max_values])
            out[facet.name] = self._facet_values(cursor.fetchall(), filters.get(facet.name, ()))
        return out

    @staticmethod
    def _facet_values(rows, selected: Sequence[str]) -> list[FacetValue]:
        values = [FacetValue(value=v, count=int(n), selected=v in selected) for v, n in rows]
        seen = {v.value for v in values}
        # A selected value stays listed (with 0) so it can be unticked.
        values += [FacetValue(value=v, count=0, selected=True) for v in selected if v not in seen]
        return values

    def _empty_facets(self, filters) -> dict[str, list[FacetValue]]:
        return {f.name: self._facet_values([], filters.get(f.name, ())) for f in FACETS}

    def suggest(self, prefix: str, limit: int = 10) -> list[dict[str, str]]:
        from django.db.models import Exists, OuterRef

        from archive.models import Diagnosis, Tag
        from archive.vocabulary.selectors import fold, words_match

        p = " ".join(prefix.split()).lower()[:100]
        if len(p) < 2:
            return []
        folded = fold(p)
        if len(folded) < 2:
            return []
        found = (
            Diagnosis.objects.using(self.using)
            # A word of a name, synonym, Czech name or the code starts with each typed word,
            # with or without diacritics.
            .filter(words_match("folded_names", folded))
            # Only diagnoses a student can already see on some non-quiz case.
            .filter(Exists(SearchEntry.objects.filter(diagnosis_ref=OuterRef("pk"))))
            .order_by("name")
            .values_list("name", flat=True)[:limit]
        )
        tags = (
            Tag.objects.using(self.using)
            .filter(name__istartswith=p)
            .filter(Exists(SearchEntryTag.objects.filter(name=OuterRef("name"))))
            .order_by("name")
            .values_list("name", flat=True)[:limit]
        )
        out = [{"text": n, "kind": "diagnosis"} for n in found]
        out += [{"text": n, "kind": "tag"} for n in tags]
        return out[:limit]
