"""Login throttling: who the client is, when a username or address is locked, what it is told.

django-axes does the bookkeeping (failures in the database, shared by every process and
machine; its authentication backend refuses a locked-out login before the password hasher
runs). This module adds what the archive needs on top:

- the client address, believing ``X-Forwarded-For`` only from ``TA_TRUSTED_PROXIES``;
- separate limits per username (``AXES_FAILURE_LIMIT``) and per address
  (``TA_LOGIN_FAILURES_PER_ADDRESS``, higher: a classroom may share one school address);
- the answer to a locked-out client: the login page with a sentence, or plain text for
  DICOMweb clients, both with status 429 and ``Retry-After``.
"""

from __future__ import annotations

import functools
import ipaddress
import math

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext

__all__ = [
    "LoginThrottleHandler",
    "client_address",
    "locked_out_response",
    "lockout_response",
    "mark_basic_auth",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: HttpRequest) -> str | None:
    """The address a login attempt comes from.

    ``REMOTE_ADDR`` unless the peer is a trusted proxy; then ``X-Forwarded-For`` is read from
    the right (each proxy appends the peer it saw) and the first address that is not one of our
    proxies is the client. Anything to its left was written by the client and is ignored.
    """
    remote = request.META.get("REMOTE_ADDR")
    networks = _networks(tuple(settings.TA_TRUSTED_PROXIES))
    if not networks or not remote or not _trusted(remote, networks):
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if _trusted(hop, networks):
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            return remote  # a proxy of ours wrote nonsense: count the proxy, not a made-up client
    return remote


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler with one limit per username and another per address.

    Axes compares a single failure count with a single limit (``AXES_FAILURE_LIMIT``, the
    per-username one). The address count is scaled so that it reaches that limit exactly when
    it reaches ``TA_LOGIN_FAILURES_PER_ADDRESS``.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        username = get_client_username(request, credentials)
        address = request.axes_ip_address
        by_username = _sum(recent.filter(username=username)) if username else 0
        by_address = _sum(recent.filter(ip_address=address)) if address else 0
        limit = get_failure_limit(request, credentials)
        return max(by_username, by_address * limit // settings.TA_LOGIN_FAILURES_PER_ADDRESS)


def _sum(attempts) -> int:
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def mark_basic_auth(request: HttpRequest) -> None:
    """Flag a request that authenticates with HTTP Basic: a lock-out answers it in plain text."""
    request.ta_basic_auth = True


def _retry_after() -> int:
    cool_off = get_cool_off()
    return int(cool_off.total_seconds()) if cool_off else 0


def _message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed log-ins for this account or from your network. Try again in "
        "%(minutes)d minute, or ask an administrator to unlock the account.",
        "Too many failed log-ins for this account or from your network. Try again in "
        "%(minutes)d minutes, or ask an administrator to unlock the account.",
        minutes,
    ) % {"minutes": minutes}


def locked_out_response(request: HttpRequest) -> HttpResponse:
    """429 with a sentence (and ``Retry-After``): the login page, or plain text for Basic."""
    seconds = _retry_after()
    message = _message(seconds)
    if getattr(request, "ta_basic_auth", False):
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    else:
        nxt = request.POST.get("next") or request.GET.get("next", "")
        if not nxt and request.path.startswith("/admin/"):
            nxt = "/admin/"
        context = {"form": AuthenticationForm(request), "locked_out": message, "next": nxt}
        response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(seconds)
    # A lock-out page must never be served from a cache to someone else.
    response["Cache-Control"] = "private, no-store"
    return response


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: what AxesMiddleware answers instead of the login view."""
    return locked_out_response(request)
