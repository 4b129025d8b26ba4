"""Search page and JSON endpoints. Thin: parsing here, everything else in ``services``."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from . import services
from .facets import FACETS, parse_filters


def api_login_required(view):
    """Like ``login_required`` but answers 401 JSON instead of redirecting to a login page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"error": "Log in to search the archive."}, status=401)
        return view(request, *args, **kwargs)

    return wrapper


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def _search(request: HttpRequest) -> services.SearchPage:
    return services.search_cases(
        text=request.GET.get("q", ""),
        filters=parse_filters(request.GET),
        page=_page_number(request),
        user=request.user,
    )


@require_GET
@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    page = _search(request)
    base = [("q", page.query.text)] if page.query.text else []
    for name, values in page.query.filters.items():
        base += [(name, v) for v in values]
    facets = []
    children = {f.parent_facet: f for f in FACETS if f.parent_facet}
    for f in FACETS:
        values = page.facets.get(f.name)
        if not values or f.parent_facet:
            continue  # a lower level of a hierarchy is listed under its parent's values
        child = children.get(f.name)
        if child is not None:
            below = page.facets.get(child.name, [])
            values = [
                {**v, "children": [c for c in below if c.get("parent") == v["value"]]}
                for v in values
            ]
        child_name = child.name if child else ""
        facets.append({"name": f.name, "label": f.label, "values": values, "child": child_name})
    return render(
        request,
        "search/search.html",
        {
            "page": page,
            "q": page.query.text,
            "facets": facets,
            "selected_filters": sum(len(v) for v in page.query.filters.values()),
            "results": page.results,
            "next_url": "?" + urlencode([*base, ("page", page.query.page + 1)]),
            "previous_url": "?" + urlencode([*base, ("page", page.query.page - 1)]),
        },
    )


@require_GET
@api_login_required
def api_search(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_search(request).as_json())


@require_GET
@api_login_required
def api_autocomplete(request: HttpRequest) -> JsonResponse:
    suggestions = services.suggest(request.GET.get("q", ""), language=get_language() or "en")
    return JsonResponse({"suggestions": suggestions})
