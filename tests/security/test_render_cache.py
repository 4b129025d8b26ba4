"""The render cache cannot be grown without bound: custom windows (?wc=&ww=) are never stored,
and the presets' PNGs are kept under TA_RENDER_CACHE_MAX_MB, least recently used evicted first.
Presets and custom windows still answer If-None-Match with 304."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from archive.rendering import render_cache_size, render_frame
from tests.viewer.factories import ct_stack, make_case


@pytest.fixture
def stack(teacher):
    return list(make_case(teacher, ct_stack(4)).instances().order_by("instance_number"))


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _pngs(root: Path) -> set[Path]:
    return set(root.rglob("*.png"))


def test_custom_windows_do_not_grow_the_cache(stack, student, storage_dirs, settings):
    settings.TA_RENDER_CACHE_MAX_MB = 1
    c = _client(student)
    url = f"/instances/{stack[0].pk}/frames/0.png"
    assert c.get(url, {"preset": "lung"}).status_code == 200
    stored = _pngs(storage_dirs["render"])
    assert len(stored) == 1
    for n in range(60):  # a long drag, or anyone asking for every value
        r = c.get(url, {"wc": str(-500 + 17 * n), "ww": str(100 + 31 * n)})
        assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert _pngs(storage_dirs["render"]) == stored


def test_presets_are_kept_under_the_cap_least_recently_used_evicted(stack, storage_dirs, settings):
    sizes = [len(render_frame(i, 0, "bone")[0]) for i in stack]
    for path in _pngs(storage_dirs["render"]):
        path.unlink()
    assert max(sizes) < 1.15 * min(sizes)  # slices of one CT: about the same size each
    # Room for two and a half PNGs: the third one written is one too many.
    settings.TA_RENDER_CACHE_MAX_MB = 2.5 * max(sizes) / 1024 / 1024
    cap = 2.5 * max(sizes)
    a, b, c, d = stack

    def path_of(instance) -> Path:
        from archive.rendering import cache_name

        return storage_dirs["render"] / cache_name(instance, 0, "bone", None)

    render_frame(a, 0, "bone")
    render_frame(b, 0, "bone")
    render_frame(a, 0, "bone")  # a hit: a is now more recently used than b
    render_frame(c, 0, "bone")
    assert render_cache_size() <= cap
    assert path_of(a).exists() and path_of(c).exists()
    assert not path_of(b).exists()  # the least recently used went
    render_frame(d, 0, "bone")
    assert render_cache_size() <= cap
    assert path_of(d).exists() and not path_of(a).exists()
    # An evicted frame renders again, the same picture under the same ETag.
    again, etag = render_frame(b, 0, "bone")
    assert len(again) == sizes[1] and etag == f'"{path_of(b).stem[:32]}"'
    assert render_cache_size() <= cap


def test_presets_and_custom_windows_answer_304(stack, student):
    c = _client(student)
    url = f"/instances/{stack[0].pk}/frames/0.png"
    asked = ({"preset": "lung"}, {"preset": "default", "size": "128"}, {"wc": "40", "ww": "80"})
    for params in asked:
        first = c.get(url, params)
        assert first.status_code == 200 and first["ETag"]
        again = c.get(url, params, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304, params
        assert c.get(url, params, HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    # A frame that does not exist is a 404 whatever the client says it has.
    missing = f"/instances/{stack[0].pk}/frames/7.png"
    assert c.get(missing, {"preset": "lung"}, HTTP_IF_NONE_MATCH='"x"').status_code == 404
