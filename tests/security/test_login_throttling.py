"""Login throttling on every login path: the site's form, the admin's form and DICOMweb Basic.

Failures are counted per username and per client address, separately; a locked username or
address is refused (even with the right password) with a sentence and status 429, without the
password hasher running, until the cool-off ends. A DICOMweb client repeating bad credentials
is answered from a short negative cache.
"""

from __future__ import annotations

import base64
import threading

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import F, Sum
from django.test import Client

LOCKED = "Too many failed log-ins for this account or from your network"


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class Path:
    """One login path: how to try a username and password and what success looks like."""

    name = ""

    def attempt(self, client: Client, username: str, password: str, address: str):
        raise NotImplementedError

    def succeeded(self, response) -> bool:
        raise NotImplementedError

    def refused_as_wrong(self, response) -> bool:
        raise NotImplementedError


class SiteLogin(Path):
    name = "site"
    url = "/accounts/login/"

    def attempt(self, client, username, password, address):
        data = {"username": username, "password": password}
        return client.post(self.url, data, REMOTE_ADDR=address)

    def succeeded(self, response):
        return response.status_code == 302 and "_auth_user_id" in response.wsgi_request.session

    def refused_as_wrong(self, response):
        return response.status_code == 200 and "didn" in response.content.decode()


class AdminLogin(SiteLogin):
    name = "admin"
    url = "/admin/login/?next=/admin/"

    def refused_as_wrong(self, response):
        return response.status_code == 200 and "correct username" in response.content.decode()


class DicomwebBasic(Path):
    name = "dicomweb"

    def attempt(self, client, username, password, address):
        header = _basic(username, password)
        return client.get("/dicomweb/studies", HTTP_AUTHORIZATION=header, REMOTE_ADDR=address)

    def succeeded(self, response):
        return response.status_code == 200

    def refused_as_wrong(self, response):
        return response.status_code == 401


PATHS = [SiteLogin(), AdminLogin(), DicomwebBasic()]


def _assert_locked_page(response, path: Path) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    body = response.content.decode()
    assert LOCKED in body and "Try again in 15 minutes" in body
    if path.name == "dicomweb":
        assert response["Content-Type"].startswith("text/plain")
    else:  # the login page itself, with the form, so the user knows where they are
        assert 'name="password"' in body and "<h1>Log in</h1>" in body


@pytest.fixture
def users(curator, counting_hasher):
    from tests.conftest import _user

    # Staff both: the admin's own form refuses anyone else even with the right password.
    other = _user("curator2", "curator", staff=True)
    counting_hasher.runs = 0  # storing the fixtures' passwords hashed too
    return {"locked": curator, "other": other}


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_failures_lock_the_username_even_for_the_right_password(path, users, counting_hasher):
    user, other = users["locked"], users["other"]
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(limit - 1):
        r = path.attempt(client, user.username, f"wrong-{n}", "203.0.113.7")
        assert path.refused_as_wrong(r), (n, r.status_code)
    _assert_locked_page(path.attempt(client, user.username, "wrong-last", "203.0.113.7"), path)
    assert counting_hasher.runs == limit  # each failure before the lock was checked once

    # From now on the username is refused, from any address, right password or not, and the
    # hasher does not run for it.
    for address in ("203.0.113.7", "198.51.100.20"):
        r = path.attempt(Client(), user.username, "pw-" + user.username, address)
        _assert_locked_page(r, path)
        assert not path.succeeded(r)
    for n in range(3):
        _assert_locked_page(path.attempt(client, user.username, f"more-{n}", "203.0.113.7"), path)
    assert counting_hasher.runs == limit

    # Someone else, from another address, logs in as usual.
    assert path.succeeded(path.attempt(Client(), other.username, "pw-curator2", "198.51.100.30"))


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_failures_from_one_address_lock_that_address(path, users, counting_hasher):
    user = users["locked"]
    per_address = settings.TA_LOGIN_FAILURES_PER_ADDRESS
    assert per_address > settings.AXES_FAILURE_LIMIT  # a classroom shares one school address
    # Many usernames (none of them locked on its own) from one address.
    for n in range(per_address - 1):
        r = path.attempt(Client(), f"guess{n % 7}", f"wrong-{n}", "192.0.2.50")
        assert path.refused_as_wrong(r), (n, r.status_code)
    _assert_locked_page(path.attempt(Client(), "guess-last", "wrong", "192.0.2.50"), path)
    runs = counting_hasher.runs

    # A real user with the right password from that address is refused without hashing...
    _assert_locked_page(path.attempt(Client(), user.username, "pw-curator1", "192.0.2.50"), path)
    assert counting_hasher.runs == runs
    # ...and is not locked elsewhere: the address was, not the username.
    assert path.succeeded(path.attempt(Client(), user.username, "pw-curator1", "192.0.2.51"))


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_the_lock_ends_after_the_cool_off(path, users):
    user = users["locked"]
    for n in range(settings.AXES_FAILURE_LIMIT):
        path.attempt(Client(), user.username, f"wrong-{n}", "203.0.113.9")
    _assert_locked_page(path.attempt(Client(), user.username, "pw-curator1", "203.0.113.9"), path)

    # The failures happened longer ago than the cool-off (moved back in the database).
    later = settings.AXES_COOLOFF_TIME + settings.AXES_COOLOFF_TIME / 10
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - later)
    assert path.succeeded(path.attempt(Client(), user.username, "pw-curator1", "203.0.113.9"))


def _failures() -> int:
    return AccessAttempt.objects.aggregate(n=Sum("failures_since_start"))["n"] or 0


def test_dicomweb_repeated_bad_credentials_are_answered_without_hashing(teacher, counting_hasher):
    # A viewer with a stale password sends it with every request: one check, one failure.
    header = _basic(teacher.username, "stale-password")
    client = Client()
    counting_hasher.runs = 0
    for _ in range(10):
        r = client.get("/dicomweb/studies", HTTP_AUTHORIZATION=header)
        assert r.status_code == 401 and r["WWW-Authenticate"].startswith("Basic")
    assert counting_hasher.runs == 1
    assert _failures() == 1
    # The right password is a different header: checked, and accepted.
    r = client.get("/dicomweb/studies", HTTP_AUTHORIZATION=_basic("teacher1", "pw-teacher1"))
    assert r.status_code == 200
    # And the negative cache does not keep the header in clear.
    from django.core.cache import cache

    if hasattr(cache, "_cache") and hasattr(cache._cache, "get_client"):
        keys = b" ".join(cache._cache.get_client().keys("*"))
        assert b"stale-password" not in keys and header.encode() not in keys


@pytest.mark.django_db(transaction=True)
def test_dicomweb_parallel_requests_with_one_bad_header_hash_once(teacher, counting_hasher):
    # A viewer opening a study fires many requests at once with the same credentials.
    header = _basic(teacher.username, "typo")
    counting_hasher.runs = 0
    start = threading.Barrier(6)
    statuses: list[int] = []

    def request() -> None:
        start.wait()
        statuses.append(Client().get("/dicomweb/studies", HTTP_AUTHORIZATION=header).status_code)

    threads = [threading.Thread(target=request) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [401] * 6
    assert counting_hasher.runs == 1
    assert _failures() == 1  # not locked by one page load


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(settings, curator):
    path = SiteLogin()

    def fail_from(peer: str, forwarded: str, n: int):
        return Client().post(
            path.url,
            {"username": "someone", "password": f"x{n}"},
            REMOTE_ADDR=peer,
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    # No trusted proxy: X-Forwarded-For is the client's say-so and ignored.
    for n in range(3):
        fail_from("192.0.2.10", f"198.51.100.{n}", n)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.10"}
    AccessAttempt.objects.all().delete()

    # Behind our proxy, the right-most address it did not add itself is the client; what the
    # client wrote to the left of it is ignored.
    settings.TA_TRUSTED_PROXIES = ["10.0.0.0/8"]
    fail_from("10.0.0.2", "6.6.6.6, 198.51.100.77, 10.0.0.9", 1)
    fail_from("10.0.0.2", "198.51.100.78", 2)
    fail_from("192.0.2.10", "198.51.100.79", 3)  # not our proxy: its header is not believed
    addresses = set(AccessAttempt.objects.values_list("ip_address", flat=True))
    assert addresses == {"198.51.100.77", "198.51.100.78", "192.0.2.10"}
