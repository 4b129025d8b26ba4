"""Login page latency while clients hammer DICOMweb with bad HTTP Basic credentials.

Usage::

    python benchmarks/login_bench.py [--attackers 4] [--seconds 12] [--db-name NAME]

gunicorn with 2 sync workers (as ``make run``) on 127.0.0.1, the production password hasher
(PBKDF2, Django's default iterations), PostgreSQL (``<DATABASE_URL's name>_login_bench``) and
Redis db 14 as the cache. While ``--attackers`` threads send bad credentials to
``/dicomweb/studies`` as fast as they are answered, one client times ``GET /accounts/login/``;
the figure is its median (and p90) next to the quiet baseline of the same server, as a ratio.

Two attacks: a viewer or script repeating one stale password ("same header"), and a guesser
sending a new password each time ("new password") from one address. Each is run against

- *unthrottled*: ``benchmarks/unthrottled_settings.py`` (django-axes off, no cache: every bad
  header runs the hasher, as before login throttling);
- *throttled*: the archive's settings (lock-out after 5 failures per username, verdicts on a
  Basic header cached).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

USER, PASSWORD = "bench-teacher", "bench-password-correct-horse"


def prepare_database(name: str | None) -> str:
    import psycopg

    url = urlparse(os.environ.get("DATABASE_URL", "postgres://ta:ta@127.0.0.1:5432/ta"))
    name = name or f"{url.path.lstrip('/')}_login_bench"
    with psycopg.connect(urlunparse(url._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(url._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: str | int, path: str, headers: dict[str, str] | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def timed_login_pages(port: int, count: int) -> list[float]:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        assert get(port, "/accounts/login/") == 200
        times.append(time.perf_counter() - start)
    return times


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "teaching_archive.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "120"],
        cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            if get(port, "/accounts/login/") == 200:
                return proc, port
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"gunicorn did not start; see {log}")
        time.sleep(0.3)


def attack(port: int, attackers: int, seconds: float, same_header: bool) -> dict:
    stop = threading.Event()
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def hammer(n: int) -> None:
        i = 0
        while not stop.is_set():
            password = "stale-password" if same_header else f"guess-{n}-{i}"
            token = base64.b64encode(f"{USER}:{password}".encode()).decode()
            try:
                status = get(port, "/dicomweb/studies", {"Authorization": f"Basic {token}"})
            except OSError:
                status = 0
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
            i += 1

    threads = [threading.Thread(target=hammer, args=(n,), daemon=True) for n in range(attackers)]
    for t in threads:
        t.start()
    time.sleep(1.0)  # let the attack saturate the workers first
    deadline = time.monotonic() + seconds
    times = []
    while time.monotonic() < deadline:
        times += timed_login_pages(port, 1)
    stop.set()
    for t in threads:
        t.join(120)
    return {"times": times, "statuses": statuses}


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(0.9 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attackers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--db-name", help="PostgreSQL database (default <name>_login_bench)")
    parser.add_argument("--cache", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="login-bench-"))
    env = {
        **os.environ,
        "DATABASE_URL": prepare_database(args.db_name),
        "CELERY_BROKER_URL": args.cache,
        "TA_CACHE_URL": args.cache,
        "TA_VAR_DIR": str(tmp),
        "TA_HTTPS": "0",
        "DJANGO_DEBUG": "0",
        "TA_LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "teaching_archive.settings",
        "PYTHONPATH": str(REPO),
    }
    os.environ.update(env)
    import django

    django.setup()
    from axes.models import AccessAttempt
    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    user, _ = User.objects.get_or_create(username=USER)
    user.set_password(PASSWORD)  # the production hasher: what an attacker makes us compute
    user.save()

    print(
        f"login page latency, {args.attackers} clients sending bad Basic credentials to "
        f"/dicomweb/studies (gunicorn, 2 workers)"
    )
    rows = []
    for variant, module in (
        ("unthrottled", "benchmarks.unthrottled_settings"),
        ("throttled", "teaching_archive.settings"),
    ):
        for same_header in (True, False):
            AccessAttempt.objects.all().delete()
            cache.clear()
            server, port = start_server(
                {**env, "DJANGO_SETTINGS_MODULE": module}, tmp / f"{variant}.log"
            )
            try:
                quiet = summary(timed_login_pages(port, 30))
                seen = attack(port, args.attackers, args.seconds, same_header)
            finally:
                server.terminate()
                server.wait(30)
            busy = summary(seen["times"])
            kind = "same header " if same_header else "new password"
            rows.append((variant, kind, quiet, busy, seen["statuses"]))
            print(
                f"{variant:11} {kind}: quiet median {quiet[0] * 1000:6.1f} ms; under attack "
                f"median {busy[0] * 1000:7.1f} ms, p90 {busy[1] * 1000:7.1f} ms "
                f"= {busy[0] / quiet[0]:5.1f}x quiet; attack answers {dict(seen['statuses'])}"
            )


if __name__ == "__main__":
    main()
