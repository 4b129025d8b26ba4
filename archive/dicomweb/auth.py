"""Authentication for DICOMweb clients: the Django session (browser viewers on this site) or
HTTP Basic against Django users (external viewers and scripts)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from archive.throttling import locked_out_response, mark_basic_auth

__all__ = ["dicomweb_auth"]

REALM = 'Basic realm="teaching archive DICOMweb", charset="UTF-8"'
# A viewer sends the same credentials with every frame request; checking the password hash
# each time would cost ~0.3 s. A verdict on an Authorization header is remembered in the shared
# cache, keyed by an HMAC of the header (never the header itself):
# - accepted: for VERIFIED_TTL, honoured only while the user's password hash is unchanged;
# - refused: for REFUSED_TTL, so a client repeating bad credentials is answered 401 without
#   hashing (and counts once towards the login lock-out, not once per frame);
# - being checked: parallel requests with the same header (a viewer loading a study) wait up
#   to PENDING_WAIT for the first one's verdict instead of each running the hasher.
VERIFIED_TTL = 300
REFUSED_TTL = 30
PENDING_TTL = 10
PENDING_WAIT = 3.0


def _digest(value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def _cache_key(header: str, verdict: str = "ok") -> str:
    return f"dicomweb-basic:{verdict}:{_digest(header)}"


def _remembered(header: str):
    """The user an earlier request proved this header belongs to, False if it was refused, or
    None when there is no verdict yet."""
    ok_key, refused_key = _cache_key(header), _cache_key(header, "refused")
    verdicts = cache.get_many([ok_key, refused_key])
    if ok_key in verdicts:
        pk, password_digest = verdicts[ok_key]
        user = get_user_model().objects.filter(pk=pk).first()
        # The hash itself stays out of the cache: only an HMAC of it is compared.
        if user is not None and hmac.compare_digest(_digest(user.password), password_digest):
            return user
    if refused_key in verdicts:
        return False
    return None


def _basic_verdict(request: HttpRequest, header: str):
    """The user of a Basic header, False (refused) or a lock-out response."""
    found = _remembered(header)
    if found is not None:
        return found
    pending = _cache_key(header, "pending")
    owner = cache.add(pending, 1, PENDING_TTL)
    if not owner:
        deadline = time.monotonic() + PENDING_WAIT
        while time.monotonic() < deadline:
            time.sleep(0.05)
            found = _remembered(header)
            if found is not None:
                return found
    try:
        user = _check_basic(request, header)
        if user is None:
            if getattr(request, "axes_locked_out", False):
                return locked_out_response(request)
            cache.set(_cache_key(header, "refused"), 1, REFUSED_TTL)
            return False
        cache.set(_cache_key(header), (user.pk, _digest(user.password)), VERIFIED_TTL)
        return user
    finally:
        if owner:
            cache.delete(pending)


def _check_basic(request: HttpRequest, header: str):
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    if not sep:
        return None
    return authenticate(request, username=username, password=password)


def _unauthorized() -> HttpResponse:
    response = HttpResponse(
        "Sign in (session) or send HTTP Basic credentials of your archive account.",
        status=401,
        content_type="text/plain",
    )
    response["WWW-Authenticate"] = REALM
    return response


def dicomweb_auth(view: Callable) -> Callable:
    """Require a user from the session or HTTP Basic; keep CSRF protection for sessions."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.headers.get("Authorization"):
            mark_basic_auth(request)
            user = _basic_verdict(request, request.headers["Authorization"])
            if isinstance(user, HttpResponse):
                return user
            if not user or not user.is_active:
                return _unauthorized()
            request.user = user
        elif request.user.is_authenticated:
            if request.method not in {"GET", "HEAD", "OPTIONS"}:
                # A browser session can be ridden by another site: check the CSRF token.
                rejected = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
                if rejected is not None:
                    return rejected
        else:
            return _unauthorized()
        return view(request, *args, **kwargs)

    return wrapper
