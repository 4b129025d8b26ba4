"""HTTPS, HSTS, secure cookies, the proxy header and the Content-Security-Policy.

Production values are checked in a subprocess with a production-like environment (settings are
read once, from the environment, when Django starts); the test process itself serves plain http
(tests/conftest.py), as `make run` does.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

REPO = Path(__file__).resolve().parents[2]


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TA_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="teaching_archive.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        TA_DEID_UID_KEY=secrets.token_urlsafe(48),
        TA_DEID_PSEUDONYM_KEY=secrets.token_urlsafe(48),
        DJANGO_ALLOWED_HOSTS="archive.example.org",
        TA_VAR_DIR=str(tmp_path / "var"),
        PYTHONWARNINGS="ignore",
    )
    env.update(extra)
    return env


def run_django(env: dict[str, str], code: str) -> dict:
    """Run ``code`` after django.setup() in a fresh interpreter; it prints one JSON object."""
    script = "import django, json\ndjango.setup()\n" + code
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_in_a_production_configuration(tmp_path):
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env=production_env(tmp_path), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output.replace("WARNINGS:", "")  # no W004/W008/W009/W012/W016...


# What a browser sees over HTTPS and over plain http, from a production-like process.
PROBE = """
from django.test import Client
c = Client(HTTP_HOST="archive.example.org")
plain = c.get("/accounts/login/")
secure = c.get("/accounts/login/", secure=True)
proxied = c.get("/accounts/login/", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""),
    "secure_status": secure.status_code,
    "hsts": secure.get("Strict-Transport-Security", ""),
    "csrf_cookie_secure": bool(secure.cookies["csrftoken"]["secure"]),
    "proxied_status": proxied.status_code,
    "session_cookie_secure": __import__("django.conf").conf.settings.SESSION_COOKIE_SECURE,
}))
"""


def test_production_redirects_to_https_with_hsts_and_secure_cookies(tmp_path):
    seen = run_django(production_env(tmp_path), PROBE)
    assert seen["plain_status"] == 301
    assert seen["plain_location"] == "https://archive.example.org/accounts/login/"
    assert seen["secure_status"] == 200
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["csrf_cookie_secure"] is True and seen["session_cookie_secure"] is True
    # Without a trusted proxy, X-Forwarded-Proto is anyone's say-so: still redirected.
    assert seen["proxied_status"] == 301


def test_behind_a_trusted_proxy_its_https_header_is_believed(tmp_path):
    seen = run_django(production_env(tmp_path, TA_TRUSTED_PROXIES="10.0.0.0/8"), PROBE)
    assert seen["proxied_status"] == 200 and seen["plain_status"] == 301


def test_make_run_serves_plain_http(tmp_path):
    # scripts/run.sh sets TA_HTTPS=0 for the laptop setup on http://127.0.0.1.
    run_sh = (REPO / "scripts" / "run.sh").read_text()
    assert 'export TA_HTTPS="${TA_HTTPS:-0}"' in run_sh
    seen = run_django(production_env(tmp_path, TA_HTTPS="0"), PROBE)
    assert seen["plain_status"] == 200 and seen["hsts"] == ""
    assert seen["csrf_cookie_secure"] is False and seen["session_cookie_secure"] is False


def test_a_bad_trusted_proxy_setting_stops_the_start_with_a_sentence(tmp_path):
    env = production_env(tmp_path, TA_TRUSTED_PROXIES="10.0.0.0/8,proxy.local")
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "TA_TRUSTED_PROXIES: 'proxy.local' is not an IP address or network" in done.stderr


@pytest.mark.django_db
def test_every_page_carries_the_content_security_policy(student):
    client = Client()
    client.force_login(student)
    for url in ("/", "/accounts/login/", "/search/?q=x", "/my/progress/"):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["object-src"] == "'none'"
        assert "unsafe" not in policy
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        # The pages themselves keep to it: no inline script, handler or style attribute.
        html = response.content.decode()
        assert "<script>" not in html and " onchange=" not in html and " style=" not in html
