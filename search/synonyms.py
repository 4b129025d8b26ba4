"""Diagnosis synonyms and abbreviations, and the query analysis that uses them.

Every backend reads the same groups: the curated vocabulary in ``search/data/synonyms.tsv``
(abbreviations, lay terms, eponyms, spellings and Czech names, each with its source; see
``search/data/README.md``) plus each ``Diagnosis`` row's name, synonyms, Czech name and Czech
synonyms. Each phrase of a group also stands for its variants (``search.variants``: British and
American spellings, Latin/Greek plurals, eponyms with and without the possessive, no
diacritics), and a Czech phrase for its light stem (``search.czech``).

The database backend expands a query into "concepts" (OR of alternative phrases, concepts
ANDed); Elasticsearch gets the same groups, variants included, as a search-time
``synonym_graph`` filter. Both index a diagnosis's terms with every variant
(:meth:`SynonymTable.terms_for`), so a case is found by any of them on either backend.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .czech import fold, stem_folded
from .variants import strip_possessives, variants

DATA_FILE = Path(__file__).resolve().parent / "data" / "synonyms.tsv"

_TOKEN_RE = re.compile(r"[^\W_]+(?:\.[^\W_]+)*", re.UNICODE)
_MAX_PHRASE = 5
_CACHE_SECONDS = 60.0

Phrase = tuple[str, ...]


def tokenize(text: str) -> list[str]:
    """Lower-case words; keeps dotted codes such as ``c22.0`` whole; drops a possessive
    apostrophe-s ("Crohn's" → "crohn")."""
    return [t.lower() for t in _TOKEN_RE.findall(strip_possessives(text or ""))]


def phrase(text: str) -> Phrase:
    return tuple(tokenize(text))


def _key(p: Phrase) -> Phrase:
    return tuple(fold(w) for w in p)


def czech_stem(p: Phrase) -> Phrase:
    """A Czech phrase as the database backends index and query it: each word's light stem."""
    return tuple(stem_folded(w) for w in p)


# The curated vocabulary -------------------------------------------------------------------------


@dataclass(frozen=True)
class CuratedTerm:
    """One row of ``search/data/synonyms.tsv``."""

    concept: str
    icd10: str
    lang: str
    kind: str
    term: str
    source: str


@lru_cache(maxsize=1)
def curated_terms() -> tuple[CuratedTerm, ...]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        return tuple(CuratedTerm(**{k: (v or "").strip() for k, v in row.items()}) for row in rows)


def curated_groups() -> list[tuple[list[str], list[str]]]:
    """One (all terms, the Czech ones) pair per concept of the curated vocabulary."""
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for t in curated_terms():
        terms, czech = groups.setdefault(t.concept, ([], []))
        terms.append(t.term)
        if t.lang == "cs":
            czech.append(t.term)
    return list(groups.values())


@lru_cache(maxsize=1)
def czech_names() -> dict[str, str]:
    """English name (case-folded) → Czech name, of the curated concepts."""
    english = {t.concept: t.term for t in curated_terms() if t.kind == "name" and t.lang == "en"}
    return {
        english[t.concept].casefold(): t.term
        for t in curated_terms()
        if t.kind == "name" and t.lang == "cs" and t.concept in english
    }


@dataclass(frozen=True)
class Concept:
    """One thing the student asked for: any of ``alternatives`` (each a phrase) will do."""

    alternatives: tuple[Phrase, ...]

    @property
    def original(self) -> Phrase:
        return self.alternatives[0]


class SynonymTable:
    """Phrase → its group, built from the curated vocabulary and the ``Diagnosis`` rows.

    ``groups``: iterables of terms, each one meaning; ``czech``: the terms known to be Czech
    (their light stems are indexed and matched by the database backends).
    """

    def __init__(self, groups: Iterable[Iterable[str]], czech: Iterable[str] = ()) -> None:
        self.groups: list[tuple[Phrase, ...]] = []  # each group's phrases and their variants
        self.phrases: list[tuple[Phrase, ...]] = []  # each group's phrases as written
        self._index: dict[Phrase, set[int]] = {}
        self._terms_memo: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.czech: set[Phrase] = {_key(phrase(t)) for t in czech if t}
        # Stems of every Czech word known: a query word whose stem is one of them also
        # matches that stem (so "zlomeniny" finds "zlomenina" on the database backends).
        self.czech_stems: set[str] = {stem_folded(w) for p in self.czech for w in p}
        for group in groups:
            phrases = tuple(dict.fromkeys(p for p in (phrase(s) for s in group) if p))
            if not phrases:
                continue
            forms = tuple(
                dict.fromkeys(
                    f for p in phrases for f in (p, *variants(p, czech=_key(p) in self.czech))
                )
            )
            if len(forms) < 2:
                continue
            gid = len(self.groups)
            self.groups.append(forms)
            self.phrases.append(phrases)
            for p in forms:
                self._index.setdefault(_key(p), set()).add(gid)

    def synonyms_of(self, p: Phrase, *, their_variants: bool = True) -> tuple[Phrase, ...]:
        """``p``, its variants and its groups' phrases (with their variants, unless not
        ``their_variants``: a query needs only the phrases, since every variant of them is
        indexed with the diagnosis, and each extra alternative costs a database search)."""
        out: dict[Phrase, None] = {p: None}
        for v in variants(p, czech=_key(p) in self.czech):
            out[v] = None
        for gid in sorted(self._index.get(_key(p), ())):
            for other in self.groups[gid] if their_variants else self.phrases[gid]:
                out[other] = None
        return tuple(out)

    def terms_for(self, texts: Iterable[str]) -> list[str]:
        """Every synonym and variant of any of ``texts`` (used to fill a document's diagnosis
        terms, and the terms a quiz hides), with the light stems of the Czech ones."""
        texts = tuple(texts)
        found = self._terms_memo.get(texts)
        if found is not None:  # every case of a diagnosis asks the same when indexed
            return list(found)
        out: dict[str, None] = {}
        for text in texts:
            for p in self.synonyms_of(phrase(text)):
                out[" ".join(p)] = None
                if _key(p) in self.czech:
                    out[" ".join(czech_stem(p))] = None
        if len(self._terms_memo) < 100_000:
            self._terms_memo[texts] = tuple(out)
        return list(out)

    def concepts(self, text: str) -> list[Concept]:
        """Split a query into concepts, matching the longest known phrase at each position."""
        tokens = tokenize(text)
        concepts: list[Concept] = []
        i = 0
        while i < len(tokens):
            for n in range(min(_MAX_PHRASE, len(tokens) - i), 0, -1):
                p = tuple(tokens[i : i + n])
                if n == 1 or _key(p) in self._index:
                    alternatives = list(self.synonyms_of(p, their_variants=False))
                    if n == 1:
                        stem = stem_folded(p[0])
                        if stem in self.czech_stems and stem != p[0]:
                            alternatives.append((stem,))
                    concepts.append(Concept(tuple(dict.fromkeys(alternatives))))
                    i += n
                    break
        return concepts

    def solr_lines(self) -> list[str]:
        """Groups in the Solr format that Elasticsearch's synonym filters read."""
        return [", ".join(" ".join(p) for p in g) for g in self.groups]


def diagnosis_groups() -> tuple[list[list[str]], list[str]]:
    """Each diagnosis's names as a group, and the Czech ones among them."""
    from archive.models import Diagnosis

    groups, czech = [], []
    for d in Diagnosis.objects.only("name", "synonyms", "name_cs", "synonyms_cs", "icd10"):
        groups.append(d.names())
        czech += [d.name_cs, *d.synonym_list_cs]
    return groups, czech


_cached: tuple[float, SynonymTable] | None = None


def synonym_table(*, fresh: bool = False) -> SynonymTable:
    """Curated groups plus the diagnoses' own names, cached for a minute per process (and
    dropped at once in the process that changes a diagnosis: :func:`clear_cache`)."""
    global _cached
    now = time.monotonic()
    if fresh or _cached is None or now - _cached[0] > _CACHE_SECONDS:
        curated = curated_groups()
        rows, rows_czech = diagnosis_groups()
        _cached = (
            now,
            SynonymTable(
                [*(g for g, _ in curated), *rows],
                czech=[*(t for _, cs in curated for t in cs), *rows_czech],
            ),
        )
    return _cached[1]


def clear_cache() -> None:
    global _cached
    _cached = None


# Typo tolerance -------------------------------------------------------------------------------


def max_edits(term: str) -> int:
    """Edits allowed for a term, as Elasticsearch's ``fuzziness: AUTO`` (but no fuzz below 4)."""
    n = len(term)
    if n < 4 or any(c.isdigit() for c in term):
        return 0
    return 1 if n <= 5 else 2


_WORD_RE = re.compile(r"[^\W_]+")


def typed_abbreviations(text: str) -> set[str]:
    """Words of ``text`` typed as abbreviations (capitals, at most four letters, or with a
    digit), lower-cased: never corrected as typos, since one letter away from an abbreviation
    is another abbreviation ("HCC" and "RCC", "SCFE" and "safe")."""
    return {
        w.lower()
        for w in _WORD_RE.findall(text or "")
        if (w.isupper() and len(w) <= 4) or any(c.isdigit() for c in w)
    }


def query_concepts(
    text: str, table: SynonymTable | None = None
) -> list[tuple[Concept, str | None]]:
    """A query's concepts (as every backend reads it), each with the word that may be a typo
    and so be corrected when the archive does not know it: a single word (not part of a known
    phrase) long enough for an edit (``max_edits``), and not typed as an abbreviation."""
    abbreviations = typed_abbreviations(text)
    out = []
    for concept in (table or synonym_table()).concepts(text[:500])[:12]:
        original = concept.original
        word = original[0] if len(original) == 1 else None
        if word is not None and (not max_edits(word) or word in abbreviations):
            word = None
        out.append((concept, word))
    return out


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal-string-alignment distance (a transposition counts once), capped at ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        row_min = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
            row_min = min(row_min, cur[j])
        if row_min > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


def close_terms(term: str, candidates: Iterable[str], limit: int = 5) -> list[str]:
    """Candidates within ``max_edits(term)``, nearest first."""
    k = max_edits(term)
    if not k:
        return []
    scored = []
    for c in candidates:
        if c == term:
            continue
        d = edit_distance(term, c, k)
        if d <= k:
            scored.append((d, c))
    scored.sort()
    return [c for _, c in scored[:limit]]


def vocabulary_words(texts: Sequence[str]) -> set[str]:
    """Words worth correcting towards: alphabetic, 4+ letters."""
    return {t for text in texts for t in tokenize(text) if len(t) >= 4 and t.isalpha()}
