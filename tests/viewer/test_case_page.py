"""The case page carries what the viewer needs: each series with its DICOMweb UIDs, label, plane,
image count and thumbnail; the key images; where to open; the controls, each labelled."""

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


def test_viewer_json_lists_series_with_their_dicomweb_uids(case, student):
    c = Client()
    c.force_login(student)
    r = c.get(f"/cases/{case.pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    data = _viewer_json(html)
    assert data["dicomweb"] == "/dicomweb"
    ct, rgb = sorted(data["series"], key=lambda s: s["modality"] != "CT")
    assert (ct["count"], ct["plane"], ct["modality"]) == (3, "axial", "CT")
    assert (rgb["count"], rgb["plane"]) == (2, "")
    series = case.instances().get(instance_number=1, series__modality="CT").series
    assert (ct["study"], ct["uid"]) == (series.study.study_uid, series.series_uid)
    assert [i["sop"] for i in ct["images"]] == [
        i.sop_uid for i in series.instances.order_by("instance_number")
    ]
    assert ct["thumb"] == (
        f"/dicomweb/studies/{series.study.study_uid}/series/{series.series_uid}/thumbnail"
        "?viewport=96,96"
    )
    assert [i["colour"] for i in rgb["images"]] == [True]
    # No key image: the longest series opens first.
    assert data["lead"] == {"series": data["series"].index(ct), "position": 0}
    assert data["canEdit"] is False and data["keyImageUrl"] == ""
    # The series strip, the bundle (a module script) and the preload of the first request.
    assert html.count('class="series-button"') == 2 and "axial · 3 images" in html
    assert '<script type="module" src="/static/viewer/viewer.js"></script>' in html
    assert (
        f'<link rel="preload" href="/dicomweb/studies/{series.study.study_uid}/series/'
        f'{series.series_uid}/metadata" as="fetch" crossorigin>'
    ) in html
    # Every control of the viewer has a name.
    for control in ("preset-select", "frame-slider", "cine-fps"):
        assert f'for="{control}"' in html
    for name in ("Zoom in", "Zoom out", "Rotate right", "Flip horizontally"):
        assert f'aria-label="{name}"' in html
    assert f'href="/cases/{case.pk}/download.zip"' in html
    assert "viewer.css" in html


def test_the_first_key_image_decides_where_the_viewer_opens(case, teacher, student):
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
    assert [i["sop"] for i in series["images"]][key["position"]] == instance.sop_uid
    assert data["lead"] == {"series": key["series"], "position": key["position"]}
    assert key["caption"] == "Look at the apex"
    assert key["annotations"][0]["label"] == "apex"
    assert key["thumb"].startswith(f"/instances/{instance.pk}/frames/0.png")


def test_a_case_without_images_has_no_viewer_script(teacher, student):
    case = make_case(teacher, [])
    c = Client()
    c.force_login(student)
    html = c.get(f"/cases/{case.pk}/").content.decode()
    assert "This case has no images yet." in html and "viewer.js" not in html


def test_references_and_teaching_points_are_shown_once_the_answer_may_be(teacher, student):
    case = make_case(
        teacher,
        ct_stack(1),
        teaching_points="Look for the pleural line.",
        references="https://example.org/pleural-line",
    )
    c = Client()
    c.force_login(student)
    html = c.get(f"/cases/{case.pk}/").content.decode()
    assert "Look for the pleural line." in html
    assert '<a href="https://example.org/pleural-line" rel="nofollow">' in html
    case.quiz_mode = True
    case.save(update_fields=["quiz_mode"])
    html = c.get(f"/cases/{case.pk}/").content.decode()
    assert "pleural-line" not in html and "Look for the pleural line." not in html


def test_a_series_plane_is_read_from_its_file_once(case, student, monkeypatch):
    """The plane is read from the first image's header when the case is first shown and kept
    on the series: the next page (a student's, a curator's admin page) opens no file for it."""
    from archive.views import case_page

    c = Client()
    c.force_login(student)
    assert c.get(f"/cases/{case.pk}/").status_code == 200
    kept = {i.series.modality: i.series.plane for i in case.instances().select_related("series")}
    assert kept == {"CT": "axial", **{m: "" for m in kept if m != "CT"}}

    def no_file(instance):
        raise AssertionError("a header was read again for a plane already kept")

    monkeypatch.setattr(case_page, "_plane", no_file)
    data = _viewer_json(c.get(f"/cases/{case.pk}/").content.decode())
    assert sorted(s["plane"] for s in data["series"]) == ["", "axial"]
