"""The case page carries what the viewer needs: series, frames, windows, key images first."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from archive.models import KeyImage
from tests.viewer.factories import ct_stack, make_case, rgb_multiframe


def _viewer_json(html: str) -> dict:
    m = re.search(r'<script id="viewer-data" type="application/json">(.*?)</script>', html, re.S)
    assert m, "viewer JSON missing"
    return json.loads(m.group(1))


@pytest.fixture
def case(teacher):
    return make_case(teacher, ct_stack(3) + [rgb_multiframe()])


def test_viewer_json_lists_series_frames_and_presets(case, student):
    c = Client()
    c.force_login(student)
    r = c.get(f"/cases/{case.pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    data = _viewer_json(html)
    frames = sorted(sum(i["frames"] for i in s["images"]) for s in data["series"])
    assert frames == [2, 3]
    colour = [i for s in data["series"] for i in s["images"] if i["colour"]]
    assert len(colour) == 1 and colour[0]["frames"] == 2
    assert data["presets"]["lung"] == [-600, 1500]
    assert data["canEdit"] is False and data["keyImageUrl"] == ""
    # Every control of the viewer has a label.
    for control in ("series-select", "preset-select", "frame-slider", "cine-fps"):
        assert f'for="{control}"' in html
    for name in ("Zoom in", "Zoom out"):
        assert f'aria-label="{name}"' in html
    assert f'href="/cases/{case.pk}/download.zip"' in html
    assert "viewer.css" in html


def test_key_images_come_first_with_their_position(case, teacher, student):
    instance = case.instances().filter(frames=1).order_by("instance_number").last()
    KeyImage.objects.create(
        case=case,
        instance=instance,
        frame=0,
        caption="Look at the apex",
        annotations=[{"type": "circle", "cx": 0.5, "cy": 0.3, "r": 0.1, "label": "apex"}],
    )
    c = Client()
    c.force_login(student)
    data = _viewer_json(c.get(f"/cases/{case.pk}/").content.decode())
    (key,) = data["keyImages"]
    series = data["series"][key["series"]]
    ids = [i["id"] for i in series["images"]]
    assert ids[key["position"]] == instance.pk
    assert key["caption"] == "Look at the apex"
    assert key["annotations"][0]["label"] == "apex"
    assert key["thumb"].startswith(f"/instances/{instance.pk}/frames/0.png")
