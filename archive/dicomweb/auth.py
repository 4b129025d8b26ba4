"""Authentication for DICOMweb clients: the Django session (browser viewers on this site) or
HTTP Basic against Django users (external viewers and scripts)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

__all__ = ["dicomweb_auth"]

REALM = 'Basic realm="teaching archive DICOMweb", charset="UTF-8"'
# A viewer sends the same credentials with every frame request; checking the password hash
# each time would cost ~0.3 s. A verified header is remembered briefly (keyed by an HMAC, never
# stored in clear) and honoured only while the user's password hash is unchanged.
VERIFIED_TTL = 300


def _cache_key(header: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), header.encode(), hashlib.sha256)
    return f"dicomweb-basic:{digest.hexdigest()}"


def _basic_user(request: HttpRequest):
    header = request.headers.get("Authorization", "")
    key = _cache_key(header)
    remembered = cache.get(key)
    if remembered is not None:
        user = get_user_model().objects.filter(pk=remembered[0]).first()
        if user is not None and user.password == remembered[1]:
            return user
    user = _check_basic(request, header)
    if user is not None:
        cache.set(key, (user.pk, user.password), VERIFIED_TTL)
    return user


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
            user = _basic_user(request)
            if user is None or not user.is_active:
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
