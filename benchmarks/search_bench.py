#!/usr/bin/env python
"""Search benchmark: import N synthetic cases, then time 200 mixed queries with facets.

    python benchmarks/search_bench.py [--cases 100000] [--queries 200]

Runs on its own database so it never touches real data: for PostgreSQL a database named
``<DATABASE_URL's name>_search_bench`` (dropped and re-created), for SQLite a temporary file.
Prints the import and indexing rates, and p50/p95 of the queries next to two baselines measured
in the same run (``SELECT count(*)`` and an unfiltered search page with all facet counts).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DIAGNOSES = [
    ("Pneumothorax", "J93.9", "chest", "chest", ["CR", "CT"]),
    ("Pulmonary embolism", "I26.9", "chest", "chest", ["CT"]),
    ("Hepatocellular carcinoma", "C22.0", "abdomen", "gastrointestinal", ["CT", "MR", "US"]),
    ("Myocardial infarction", "I21.9", "cardiac", "cardiovascular", ["MR", "CT"]),
    ("Appendicitis", "K35.8", "abdomen", "gastrointestinal", ["US", "CT"]),
    ("Scaphoid fracture", "S62.0", "upper_limb", "musculoskeletal", ["CR", "CT", "MR"]),
    ("Glioblastoma", "C71.9", "head", "neuro", ["MR", "CT"]),
    ("Subdural haematoma", "S06.5", "head", "neuro", ["CT"]),
    ("Renal cell carcinoma", "C64", "abdomen", "genitourinary", ["CT", "MR", "US"]),
    ("Aortic dissection", "I71.0", "chest", "cardiovascular", ["CT"]),
    ("Pleural effusion", "J90", "chest", "chest", ["CR", "US", "CT"]),
    ("Multiple sclerosis", "G35", "head", "neuro", ["MR"]),
    ("Osteosarcoma", "C40.2", "lower_limb", "musculoskeletal", ["CR", "MR"]),
    ("Breast carcinoma", "C50.9", "breast", "breast", ["MG", "US", "MR"]),
    ("Intussusception", "K56.1", "abdomen", "paediatric", ["US"]),
]
EXTRA_DIAGNOSES = 185  # long tail, so the diagnosis facet has realistic cardinality
WORDS = (
    "mass lesion enhancement oedema calcification margin nodule opacity collapse effusion "
    "fluid shift compression thickening infiltrate density signal restricted diffusion cyst "
    "necrosis haemorrhage contrast wall duct vessel rim septum cortex lobe segment"
).split()
TAGS = [
    "emergency",
    "trauma",
    "oncology",
    "paediatrics",
    "icu",
    "classic",
    "pitfall",
    "rare",
    "board review",
    "follow-up",
    "post-operative",
    "incidental",
]
QUERIES = [
    "pneumothorax",
    "PE",
    "HCC",
    "MI",
    "pnuemothorax",
    "hepatocelular carcinoma",
    "C22.0",
    "I26.9",
    "fractures",
    "glioblastoma enhancement",
    "subdural",
    "appendicitis",
    "mass lesion",
    "aortic dissection",
    "effusion",
    "multiple sclerosis",
    "renal mass",
    "breast",
    "heart attack",
    "osteosarcoma knee",
    "calcification",
    "trauma",
]


def synthetic_rows(n: int, seed: int = 7):
    rnd = random.Random(seed)
    pool = list(DIAGNOSES) + [
        (f"Rare entity {i}", f"Q{i % 90 + 10}.{i % 10}", "abdomen", "other", ["CT", "MR"])
        for i in range(EXTRA_DIAGNOSES)
    ]
    weights = [40] * len(DIAGNOSES) + [1] * EXTRA_DIAGNOSES
    for i in range(n):
        name, icd, region, system, modalities = rnd.choices(pool, weights)[0]
        words = " ".join(rnd.choice(WORDS) for _ in range(25))
        yield {
            "title": f"Case {i}: {rnd.choice(WORDS)} {rnd.choice(WORDS)}",
            "history": f"Patient with {rnd.choice(WORDS)} and {rnd.choice(WORDS)}.",
            "findings": f"{words}. Appearances of {name.lower()}.",
            "diagnosis": name,
            "icd10": icd,
            "differential": f"{rnd.choice(pool)[0]}; {rnd.choice(pool)[0]}",
            "discussion": " ".join(rnd.choice(WORDS) for _ in range(30)),
            "modality": rnd.choice(modalities),
            "body_region": region,
            "organ_system": system,
            "level": rnd.choice(["student", "resident", "specialist"]),
            "age": rnd.choice([0.01, 5, 30, 45, 70, 82]),
            "sex": rnd.choice(["F", "M"]),
            "tags": rnd.sample(TAGS, rnd.randint(0, 3)),
            "published": rnd.random() < 0.97,
            "quiz_mode": rnd.random() < 0.05,
        }


def prepare_database() -> str:
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        import dj_database_url
        import psycopg

        cfg = dj_database_url.parse(base)
        name = f"{cfg['NAME']}_search_bench"
        dsn = (
            f"host={cfg['HOST'] or '127.0.0.1'} port={cfg['PORT'] or 5432} "
            f"user={cfg['USER']} password={cfg['PASSWORD']} dbname={cfg['NAME']}"
        )
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return base.rsplit("/", 1)[0] + "/" + name
    return f"sqlite:///{tempfile.mkdtemp(prefix='search-bench-')}/bench.sqlite3"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = prepare_database()
    os.environ.setdefault("TA_SEARCH_BACKEND", "database")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teaching_archive.settings")
    os.environ.setdefault("TA_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from search import services
    from search.backends import get_search_backend
    from search.facets import FACETS
    from search.importing import import_lines, importer_user

    call_command("migrate", verbosity=0)
    vendor = connection.vendor
    backend = get_search_backend()
    print(
        f"search benchmark: {args.cases} cases, {args.queries} queries, database={vendor}, "
        f"backend={type(backend).__name__}"
    )

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        t = time.monotonic()
        for row in synthetic_rows(args.cases):
            fh.write(json.dumps(row) + "\n")
        path = fh.name
    print(f"generated {args.cases} JSON lines in {time.monotonic() - t:.1f} s")

    t = time.monotonic()
    with open(path, encoding="utf-8") as fh:
        report = import_lines(fh, importer_user())
    imported = time.monotonic() - t
    t = time.monotonic()
    indexed = services.index_cases(report.created)
    index_time = time.monotonic() - t
    os.unlink(path)
    if vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("ANALYZE")
    print(
        f"import: {len(report.created)} cases in {imported:.1f} s "
        f"= {len(report.created) / imported:.0f} cases/s"
    )
    print(
        f"index:  {indexed} published cases in {index_time:.1f} s "
        f"= {indexed / index_time:.0f} docs/s "
        f"(import+index {len(report.created) / (imported + index_time):.0f} cases/s)"
    )

    def timed(fn, repeat: int) -> list[float]:
        out = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
        return out

    def count_star():
        with connection.cursor() as c:
            c.execute("SELECT count(*) FROM archive_case")
            c.fetchone()

    rnd = random.Random(11)
    facet_values = {
        "modality": ["CT", "MR", "US", "CR", "MG"],
        "body_region": ["chest", "abdomen", "head", "upper_limb"],
        "level": ["student", "resident", "specialist"],
        "age_group": ["child", "adult", "elderly"],
        "sex": ["F", "M"],
        "tags": TAGS,
        "diagnosis": [d[0] for d in DIAGNOSES],
    }
    assert set(facet_values) <= {f.name for f in FACETS}
    mixed = []
    for _ in range(args.queries):
        text = rnd.choice(QUERIES + [""])
        filters = {}
        for name in rnd.sample(sorted(facet_values), rnd.choice([0, 1, 1, 2, 3])):
            filters[name] = tuple(rnd.sample(facet_values[name], rnd.choice([1, 1, 2])))
        mixed.append((text, filters, rnd.choice([1, 1, 1, 2, 3])))

    for text, filters, page in mixed[:10]:  # warm caches and connections
        services.search_cases(text=text, filters=filters, page=page)
    base_count = timed(count_star, 50)
    base_page = timed(lambda: services.search_cases(text=""), 20)
    times, totals = [], []
    for text, filters, page in mixed:
        t0 = time.perf_counter()
        res = services.search_cases(text=text, filters=filters, page=page)
        times.append((time.perf_counter() - t0) * 1000)
        totals.append(res.total)
    p50, p95 = statistics.median(times), pct(times, 95)
    print(
        f"baseline SELECT count(*):         p50 {statistics.median(base_count):7.2f} ms  "
        f"p95 {pct(base_count, 95):7.2f} ms"
    )
    print(
        f"baseline unfiltered page+facets:  p50 {statistics.median(base_page):7.2f} ms  "
        f"p95 {pct(base_page, 95):7.2f} ms"
    )
    print(
        f"{len(times)} mixed queries+facets:     p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  "
        f"max {max(times):7.2f} ms  (median hits {statistics.median(totals):.0f})"
    )
    print(
        f"p95 / unfiltered-page p50 = {p95 / statistics.median(base_page):.2f}x; "
        f"goal p95 <= 50 ms: {'met' if p95 <= 50 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
