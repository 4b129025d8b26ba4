"""Absolute URLs in DICOMweb answers (RetrieveURL, BulkDataURI, STOW's RetrieveURL): a client
follows them as they are, so they must name the address it reached, port included.

``TA_EXTERNAL_URL`` (e.g. ``https://archive.example.org``) wins when set: behind a reverse proxy
the address gunicorn sees is not the public one. Without it the request's own scheme and
``Host`` are used; a ``Host`` without a port gets the port the request arrived on, unless a
trusted proxy sent it (the proxy's port means nothing to the client).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

__all__ = ["absolute", "external_base"]

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def external_base(request: HttpRequest) -> str:
    configured = (getattr(settings, "TA_EXTERNAL_URL", "") or "").rstrip("/")
    if configured:
        return configured
    host = request.get_host()
    has_port = host.rsplit("]", 1)[-1].count(":") == 1 if host.startswith("[") else ":" in host
    port = str(request.META.get("SERVER_PORT") or "")
    if (
        not has_port
        and port
        and port != _DEFAULT_PORTS.get(request.scheme)
        and not settings.TA_TRUSTED_PROXIES
    ):
        host = f"{host}:{port}"
    return f"{request.scheme}://{host}"


def absolute(request: HttpRequest, name: str, *args) -> str:
    """The absolute URL of the route ``dicomweb:<name>`` with ``args``."""
    return external_base(request) + reverse(f"dicomweb:{name}", args=args)
