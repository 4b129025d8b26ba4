#!/usr/bin/env python
"""Curation benchmark: the admin's case pages with 10,000 cases (issue #16: ≤ 300 ms each).

    python benchmarks/admin_bench.py [--cases 10000] [--requests 30] [--reuse]

Runs on its own database (PostgreSQL: ``<DATABASE_URL's name>_admin_bench``, dropped and
re-created unless ``--reuse``; else a temporary SQLite file) and its own media folders under a
temporary directory, so it never touches real data. The cases are the search benchmark's
synthetic ones (imported as a teacher's JSON lines would be); four of them get real
de-identified images (pydicom's CT with a synthetic patient, 12 slices, and a two-frame RGB
cine), processed as an upload is. A curator then asks, ``--requests`` times each:

- the changelist (the review queue: all cases, the submitted ones, a text search, page 40),
- the change page of a case with images (thumbnails, de-identification audit, events),
- the upload items list.

Printed per page: p50 and p95 in ms, the number of SQL queries of one request, and the ratio
of p50 to the admin index page's p50 in the same run (what the admin costs with no case data).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def prepare(args) -> None:
    from search_bench import prepare_database

    name = None
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        name = base.rsplit("/", 1)[1] + "_admin_bench"
    os.environ["DATABASE_URL"] = prepare_database(name, None, args.reuse)
    media = Path(tempfile.mkdtemp(prefix="admin-bench-"))
    for key, sub in (
        ("TA_MEDIA_ROOT", "media"),
        ("TA_RAW_HOLDING_ROOT", "holding"),
        ("TA_QUARANTINE_ROOT", "quarantine"),
        ("TA_RENDER_CACHE_ROOT", "render"),
    ):
        os.environ[key] = str(media / sub)
    os.environ.setdefault("TA_SEARCH_BACKEND", "database")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "teaching_archive.settings")
    os.environ.setdefault("TA_LOG_LEVEL", "WARNING")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"  # the follow-up tasks run in this process
    os.environ.setdefault("TA_HTTPS", "0")


def build(cases: int) -> None:
    from django.contrib.auth.models import Group, Permission, User
    from search_bench import synthetic_rows

    from archive.models import Case
    from archive.roles import ensure_roles
    from archive.services.intake import receive_files, received_from_bytes
    from archive.services.processing import process_upload
    from search import services
    from search.importing import import_lines, importer_user
    from tests.viewer.factories import ct_stack, rgb_multiframe

    ensure_roles(Group, Permission)
    existing = Case.objects.count()
    if existing < cases:
        t = time.monotonic()
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
            for row in synthetic_rows(cases - existing, seed=23):
                row["published"] = row["published"] and len(row["title"]) % 5 != 0
                fh.write(json.dumps(row) + "\n")
        with open(fh.name, encoding="utf-8") as lines:
            report = import_lines(lines, importer_user())
        os.unlink(fh.name)
        services.index_cases(report.created)
        # About one in six unpublished cases waits for review, as in a busy term.
        Case.objects.filter(status=Case.Status.DRAFT, pk__in=report.created[::6]).update(
            status=Case.Status.SUBMITTED
        )
        print(f"imported {len(report.created)} cases in {time.monotonic() - t:.0f} s")
    teacher = importer_user()
    if not Case.objects.filter(title__startswith="Bench images").exists():
        t = time.monotonic()
        for n in range(4):
            case = Case.objects.create(
                owner=teacher,
                title=f"Bench images {n}",
                modality="CT",
                status=Case.Status.SUBMITTED,
            )
            upload = receive_files(
                case=case,
                user=teacher,
                files=[received_from_bytes(b) for b in ct_stack(12) + [rgb_multiframe()]],
            )
            process_upload(upload.pk)
        print(f"processed 4 cases of 13 images each in {time.monotonic() - t:.0f} s")
    curator, created = User.objects.get_or_create(
        username="bench-curator", defaults={"is_staff": True}
    )
    if created:
        curator.groups.add(Group.objects.get(name="curator"))


def measure(requests: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from archive.models import Case

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-curator"))
    imaged = Case.objects.filter(title__startswith="Bench images").order_by("pk").first()
    pages = [
        ("admin index (baseline)", "/admin/"),
        ("case list", "/admin/archive/case/"),
        ("case list, submitted", "/admin/archive/case/?status__exact=submitted"),
        ("case list, search", "/admin/archive/case/?q=pneumothorax"),
        ("case list, page 40", "/admin/archive/case/?p=40"),
        ("case page with 13 images", f"/admin/archive/case/{imaged.pk}/change/"),
        ("upload items", "/admin/archive/uploaditem/"),
    ]
    results = {}
    for label, url in pages:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        queries = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(url)
        times = []
        for _ in range(requests):
            t = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
        results[label] = (statistics.median(times), pct(times, 95), len(queries))
    base = results["admin index (baseline)"][0]
    print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'p50 / index':>12}")
    for label, (p50, p95, n) in results.items():
        print(f"{label:32} {p50:8.1f} {p95:8.1f} {n:8d} {p50 / base:11.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep the database and its cases")
    args = parser.parse_args()
    prepare(args)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    build(args.cases)
    from django.db import connection

    print(
        f"admin benchmark: {args.cases} cases, {args.requests} requests a page, "
        f"database={connection.vendor}, load {os.getloadavg()[0]:.1f}"
    )
    measure(args.requests)


if __name__ == "__main__":
    main()
