"""Diagnosis synonyms and abbreviations, and the query analysis that uses them.

Every backend reads the same groups: the built-in list below plus each ``Diagnosis`` row's name,
synonyms (one per line), Czech name and ICD-10 code. The database backend expands a query into
"concepts" (OR of alternative phrases, concepts ANDed); Elasticsearch gets the same groups as a
search-time ``synonym_graph`` filter.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Each group is one meaning: any phrase finds the others. Lower case; first entry is canonical.
BUILTIN_SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("hepatocellular carcinoma", "hcc", "hepatoma", "liver cell carcinoma"),
    ("myocardial infarction", "mi", "heart attack", "stemi", "nstemi"),
    ("pulmonary embolism", "pe", "pulmonary embolus", "pulmonary thromboembolism"),
    ("pneumothorax", "ptx"),
    ("deep vein thrombosis", "dvt"),
    ("subarachnoid haemorrhage", "subarachnoid hemorrhage", "sah"),
    ("intracerebral haemorrhage", "intracerebral hemorrhage", "ich"),
    ("subdural haematoma", "subdural hematoma", "sdh"),
    ("epidural haematoma", "epidural hematoma", "extradural haematoma", "edh"),
    ("multiple sclerosis", "ms"),
    ("abdominal aortic aneurysm", "aaa"),
    ("aortic dissection", "dissecting aneurysm"),
    ("renal cell carcinoma", "rcc", "hypernephroma"),
    ("chronic obstructive pulmonary disease", "copd"),
    ("acute respiratory distress syndrome", "ards"),
    ("stroke", "cerebrovascular accident", "cva", "cerebral infarction"),
    ("transient ischaemic attack", "transient ischemic attack", "tia"),
    ("glioblastoma", "gbm", "glioblastoma multiforme"),
    ("non small cell lung cancer", "nsclc", "non small cell lung carcinoma"),
    ("small cell lung cancer", "sclc", "small cell lung carcinoma"),
    ("anterior cruciate ligament tear", "acl tear", "acl rupture"),
    ("developmental dysplasia of the hip", "ddh"),
    ("slipped capital femoral epiphysis", "scfe"),
    ("necrotising enterocolitis", "necrotizing enterocolitis", "nec"),
    ("inflammatory bowel disease", "ibd"),
    ("arteriovenous malformation", "avm"),
    ("tuberculosis", "tb"),
    ("pleural effusion", "hydrothorax"),
    ("appendicitis", "acute appendicitis"),
    ("cholecystitis", "acute cholecystitis"),
    ("fracture", "fx"),
    ("osteosarcoma", "osteogenic sarcoma"),
    ("hydrocephalus", "ventriculomegaly"),
)

_TOKEN_RE = re.compile(r"[^\W_]+(?:\.[^\W_]+)*", re.UNICODE)
_MAX_PHRASE = 5
_CACHE_SECONDS = 60.0

Phrase = tuple[str, ...]


def tokenize(text: str) -> list[str]:
    """Lower-case words; keeps dotted codes such as ``c22.0`` whole."""
    return [t.lower() for t in _TOKEN_RE.findall(text or "")]


def phrase(text: str) -> Phrase:
    return tuple(tokenize(text))


@dataclass(frozen=True)
class Concept:
    """One thing the student asked for: any of ``alternatives`` (each a phrase) will do."""

    alternatives: tuple[Phrase, ...]

    @property
    def original(self) -> Phrase:
        return self.alternatives[0]


class SynonymTable:
    """Phrase → its group, built from the built-in list and the ``Diagnosis`` rows."""

    def __init__(self, groups: Iterable[Iterable[str]]) -> None:
        self.groups: list[tuple[Phrase, ...]] = []
        self._index: dict[Phrase, set[int]] = {}
        for group in groups:
            phrases = tuple(dict.fromkeys(p for p in (phrase(s) for s in group) if p))
            if len(phrases) < 2:
                continue
            gid = len(self.groups)
            self.groups.append(phrases)
            for p in phrases:
                self._index.setdefault(p, set()).add(gid)

    def synonyms_of(self, p: Phrase) -> tuple[Phrase, ...]:
        out: dict[Phrase, None] = {p: None}
        for gid in sorted(self._index.get(p, ())):
            for other in self.groups[gid]:
                out[other] = None
        return tuple(out)

    def terms_for(self, texts: Iterable[str]) -> list[str]:
        """Every synonym of any of ``texts`` (used to fill a document's diagnosis terms)."""
        out: dict[str, None] = {}
        for text in texts:
            for p in self.synonyms_of(phrase(text)):
                out[" ".join(p)] = None
        return list(out)

    def concepts(self, text: str) -> list[Concept]:
        """Split a query into concepts, matching the longest known phrase at each position."""
        tokens = tokenize(text)
        concepts: list[Concept] = []
        i = 0
        while i < len(tokens):
            for n in range(min(_MAX_PHRASE, len(tokens) - i), 0, -1):
                p = tuple(tokens[i : i + n])
                if n == 1 or p in self._index:
                    concepts.append(Concept(self.synonyms_of(p)))
                    i += n
                    break
        return concepts

    def solr_lines(self) -> list[str]:
        """Groups in the Solr format that Elasticsearch's synonym filters read."""
        return [", ".join(" ".join(p) for p in g) for g in self.groups]


def diagnosis_groups() -> list[list[str]]:
    from archive.models import Diagnosis

    groups = []
    for d in Diagnosis.objects.only("name", "synonyms", "name_cs", "icd10"):
        groups.append([d.name, *d.synonym_list, *([d.name_cs] if d.name_cs else [])])
    return groups


_cached: tuple[float, SynonymTable] | None = None


def synonym_table(*, fresh: bool = False) -> SynonymTable:
    """Built-in groups plus the diagnoses' own synonyms, cached for a minute per process."""
    global _cached
    now = time.monotonic()
    if fresh or _cached is None or now - _cached[0] > _CACHE_SECONDS:
        _cached = (now, SynonymTable([*BUILTIN_SYNONYM_GROUPS, *diagnosis_groups()]))
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
