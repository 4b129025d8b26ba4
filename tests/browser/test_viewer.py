"""The Cornerstone3D viewer in Debian's Chromium, as students use it: scroll a 30-slice CT (wheel,
keys, slider, drag, cine), drag the window on a radiograph and read the pixel value under the
cursor, measure a length and a region, switch series from the strip, toggle key-image
annotations (withheld from an unanswered quiz, whose answer no request of the viewer carries),
and do all of it on a 390×844 phone. The Content-Security-Policy reports no violation anywhere.
Screenshots go to var/screenshots/viewer-*.png."""

from __future__ import annotations

import re

import pydicom
import pytest

from archive.models import KeyImage, Tag
from tests.browser.conftest import (
    frame_counter,
    login,
    viewer_ready,
    wait_frame_counter,
    wait_window_readout,
    watch,
)
from tests.viewer.factories import (
    ct_stack,
    make_case,
    pneumothorax,
    radiograph,
    radiograph_value,
    rgb_multiframe,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

QUIZ_SECRETS = re.compile(
    r"(?<!\w)(pneumo\s*thorax\w*|pneumotorax|ptx|collapsed lung|j93\w*)(?!\w)"
)


@pytest.fixture
def problems(page):
    found = watch(page)
    yield found
    assert found == [], found


def settled(page, selector: str) -> str:
    """The text of an element once it stops changing (statistics follow the last drawing)."""
    previous = None
    for _ in range(20):
        text = page.locator(selector).inner_text()
        if text == previous:
            return text
        previous = text
        page.wait_for_timeout(150)
    raise AssertionError(f"{selector} kept changing: {text!r}")


def centre(page) -> tuple[float, float, dict]:
    box = page.locator("#viewport").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box


def orientation(page) -> dict[str, str]:
    return {s: page.locator(f"#orientation-{s}").inner_text() for s in ("top", "right", "bottom",
                                                                          "left")}  # fmt: skip


def test_scroll_a_30_slice_ct(live_server, page, problems, screenshot, teacher, student):
    case = make_case(teacher, ct_stack(30), title="Chest CT, 30 slices")
    login(page, live_server.url, student.username)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    viewer_ready(page)
    wait_frame_counter(page, "1 / 30")  # written just after the first drawing
    assert orientation(page) == {"top": "A", "right": "L", "bottom": "P", "left": "R"}
    # CT_small has no window in its header: soft tissue first, the CT presets on offer.
    assert page.locator("#wl-readout").inner_text() == "W 400 L 60"
    options = page.locator("#preset-select option").all_inner_texts()
    assert options[:3] == ["lung (1)", "mediastinum (2)", "bone (3)"]
    assert "liver (6)" in options

    x, y, box = centre(page)
    page.mouse.move(x, y)
    for n in range(2, 7):
        page.mouse.wheel(0, 120)
        wait_frame_counter(page, f"{n} / 30")
    page.locator("#viewer").focus()
    page.keyboard.press("ArrowDown")
    wait_frame_counter(page, "7 / 30")
    page.keyboard.press("End")
    wait_frame_counter(page, "30 / 30")
    page.keyboard.press("Home")
    wait_frame_counter(page, "1 / 30")
    page.keyboard.press("PageDown")
    wait_frame_counter(page, "11 / 30")
    page.locator("#frame-slider").fill("19")
    wait_frame_counter(page, "20 / 30")
    # Dragging with the scroll tool moves through the stack too.
    page.get_by_role("button", name="Scroll", exact=True).click()
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + 120, steps=12)
    page.mouse.up()
    page.wait_for_function(
        "() => document.getElementById('frame-counter').textContent !== '20 / 30'"
    )
    assert int(frame_counter(page).split(" / ")[0]) > 20
    # Presets by menu and by number key.
    page.get_by_label("Window").select_option("lung")
    wait_window_readout(page, "W 1500 L -600")
    page.locator("#viewer").focus()
    page.keyboard.press("3")
    wait_window_readout(page, "W 2500 L 480")
    # Cine: the counter moves while playing and stops when paused (key C).
    page.get_by_label("Frames per second").fill("20")
    page.get_by_role("button", name="Play").click()
    start = frame_counter(page)
    page.wait_for_function(
        "s => document.getElementById('frame-counter').textContent !== s", arg=start
    )
    assert page.locator("#cine-play").get_attribute("aria-pressed") == "true"
    page.locator("#viewer").focus()
    page.keyboard.press("c")
    assert page.locator("#cine-play").get_attribute("aria-pressed") == "false"
    page.wait_for_timeout(300)  # images already requested may still arrive
    paused = frame_counter(page)
    page.wait_for_timeout(500)
    assert frame_counter(page) == paused
    # Rotate and flip move the orientation markers with the image.
    page.keyboard.press("r")
    page.wait_for_function("() => document.getElementById('orientation-top').textContent === 'R'")
    page.keyboard.press("h")  # mirrored left to right: the top stays
    page.wait_for_function("() => document.getElementById('orientation-right').textContent === 'P'")
    assert page.locator("#orientation-top").inner_text() == "R"
    page.keyboard.press("v")
    page.wait_for_function("() => document.getElementById('orientation-top').textContent === 'L'")
    page.keyboard.press(" ")
    page.wait_for_function("() => document.getElementById('orientation-top').textContent === 'A'")
    screenshot(page, "viewer-1-ct-scroll")


def test_window_drag_on_a_radiograph_and_the_pixel_readout(
    live_server, page, problems, screenshot, teacher, student
):
    case = make_case(teacher, [radiograph()], modality="DX", title="Chest radiograph")
    login(page, live_server.url, student.username)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    viewer_ready(page)
    # A radiograph opens with the window its header gives; no CT presets are offered.
    assert page.locator("#wl-readout").inner_text() == "W 4096 L 2048"
    options = page.locator("#preset-select option").all_inner_texts()
    assert options == ["as acquired (1)", "auto (2)", "full range (3)"]
    assert orientation(page) == {"top": "S", "right": "L", "bottom": "I", "left": "R"}

    x, y, box = centre(page)
    for dx, dy in [(0, 0), (-150, -200), (120, 180)]:
        page.mouse.move(x + dx, y + dy)
        readout = page.locator("#pixel-readout").inner_text()
        m = re.fullmatch(r"x (\d+) y (\d+) · value (-?\d+(?:\.\d)?)", readout)
        assert m, readout
        column, row, value = int(m.group(1)), int(m.group(2)), float(m.group(3))
        assert value == radiograph_value(row, column), readout

    # Dragging changes the window in the browser, at once (no request to the server).
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 160, y + 80, steps=16)
    page.mouse.up()
    readout = page.locator("#wl-readout").inner_text()
    width, level = map(int, re.fullmatch(r"W (\d+) L (-?\d+)", readout).groups())
    assert (width, level) != (4096, 2048)
    assert requests == []
    screenshot(page, "viewer-2-radiograph-window")
    page.get_by_role("button", name="Invert").click()
    assert page.locator("#invert").get_attribute("aria-pressed") == "true"
    page.get_by_label("Window").select_option("header")
    page.wait_for_function(
        "() => document.getElementById('wl-readout').textContent === 'W 4096 L 2048'"
    )


def test_measure_a_length_and_a_region(live_server, page, problems, screenshot, teacher, student):
    case = make_case(teacher, ct_stack(3), title="Chest CT")
    instance = case.instances().first()
    with instance.file.open("rb") as fh:
        spacing = float(pydicom.dcmread(fh, stop_before_pixels=True).PixelSpacing[1])
    login(page, live_server.url, student.username)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    viewer_ready(page)
    x, y, box = centre(page)
    # The 128×128 image fills the height of the wider stage.
    screen_per_pixel = min(box["width"], box["height"]) / instance.rows
    page.get_by_role("button", name="Length").click()
    page.mouse.move(x - 100, y)
    page.mouse.down()
    page.mouse.move(x + 100, y, steps=10)
    page.mouse.up()
    page.wait_for_function(
        "() => document.getElementById('measurement').textContent.startsWith('Length')"
    )
    text = settled(page, "#measurement")
    length = float(re.fullmatch(r"Length (\d+(?:\.\d)?) mm", text).group(1))
    expected = 200 / screen_per_pixel * spacing
    assert abs(length - expected) / expected < 0.03, (length, expected)
    # Cornerstone draws the measurement on the image as well.
    assert page.locator("#viewport svg text").filter(has_text="mm").count() >= 1
    screenshot(page, "viewer-3-length")

    page.get_by_role("button", name="Ellipse").click()
    page.mouse.move(x - 60, y - 40)
    page.mouse.down()
    page.mouse.move(x + 60, y + 40, steps=10)
    page.mouse.up()
    page.wait_for_function(
        "() => document.getElementById('measurement').textContent.startsWith('Mean')"
    )
    text = settled(page, "#measurement")
    assert re.fullmatch(r"Mean -?\d+(\.\d)?, SD \d+(\.\d)? HU, area \d+(\.\d)? mm²", text), text


def test_switch_series_from_the_strip(live_server, page, problems, screenshot, teacher, student):
    case = make_case(teacher, ct_stack(3) + [rgb_multiframe()], title="CT and a colour loop")
    login(page, live_server.url, student.username)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    viewer_ready(page)
    strip = page.locator("#series-strip button")
    assert strip.count() == 2
    assert strip.nth(0).get_attribute("aria-current") == "true"
    assert "axial · 3 images" in strip.nth(0).inner_text()
    assert frame_counter(page) == "1 / 3"
    strip.nth(1).click()
    wait_frame_counter(page, "1 / 2")
    viewer_ready(page)
    assert strip.nth(1).get_attribute("aria-current") == "true"
    assert page.locator("#wl-readout").inner_text() == "Colour image (shown as stored)"
    assert page.locator("#preset-select").is_disabled()
    x, y, _ = centre(page)
    page.mouse.move(x, y)
    assert re.search(r"R \d+ G \d+ B \d+", page.locator("#pixel-readout").inner_text())
    # The thumbnails are the server's rendered JPEGs.
    assert page.evaluate(
        "() => [...document.querySelectorAll('#series-strip img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    screenshot(page, "viewer-4-series-strip")
    page.locator("#viewer").focus()
    page.keyboard.press("ArrowLeft")
    wait_frame_counter(page, "1 / 3")
    assert strip.nth(0).get_attribute("aria-current") == "true"


def _key_case(teacher, **fields):
    case = make_case(teacher, ct_stack(6), **fields)
    KeyImage.objects.create(
        case=case,
        instance=case.instances().get(instance_number=4),
        frame=0,
        caption="Pneumothorax on the right",
        annotations=[
            {"type": "arrow", "x1": 0.15, "y1": 0.15, "x2": 0.42, "y2": 0.4, "label": "PTX"},
            {"type": "circle", "cx": 0.7, "cy": 0.6, "r": 0.12, "label": ""},
        ],
    )
    return case


def test_key_image_annotations_toggle(live_server, page, problems, screenshot, teacher, student):
    case = _key_case(teacher, title="Apical pneumothorax", diagnosis=pneumothorax())
    login(page, live_server.url, student.username)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    viewer_ready(page)
    # The viewer opens at the key image, its annotations drawn over it.
    assert frame_counter(page) == "4 / 6"
    assert page.locator("#viewer-overlay line.annotation").count() == 1
    assert page.locator("#viewer-overlay circle.annotation").count() == 1
    assert page.locator("#viewer-overlay text").text_content() == "PTX"
    toggle = page.get_by_role("button", name="Annotations")
    assert toggle.get_attribute("aria-pressed") == "true"
    screenshot(page, "viewer-5-key-image")
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "false"
    assert page.locator("#viewer-overlay .annotation").count() == 0
    page.locator("#viewer").focus()
    page.keyboard.press("a")
    assert page.locator("#viewer-overlay line.annotation").count() == 1
    page.keyboard.press("ArrowDown")
    wait_frame_counter(page, "5 / 6")
    assert page.locator("#viewer-overlay .annotation").count() == 0  # only on the key image
    page.locator("#key-strip button").first.click()
    wait_frame_counter(page, "4 / 6")


def test_an_unanswered_quiz_gives_nothing_away_through_the_viewer(
    live_server, page, problems, screenshot, teacher, student
):
    def leak(ds):
        ds.StudyDescription = "CT chest pneumothorax"
        ds.SeriesDescription = "PTX follow up"
        ds.ImageComments = "J93.1 on the right"

    case = make_case(
        teacher,
        ct_stack(6, hook=leak),
        title="Chest pain after a flight",
        diagnosis=pneumothorax(),
        quiz_mode=True,
    )
    case.tags.add(Tag.objects.create(name="Pneumothorax"))
    KeyImage.objects.create(
        case=case,
        instance=case.instances().get(instance_number=4),
        caption="Pneumothorax on the right",
        annotations=[{"type": "arrow", "x1": 0.2, "y1": 0.2, "x2": 0.4, "y2": 0.4, "label": "PTX"}],
    )
    bodies: list[tuple[str, str]] = []

    def keep(response):
        if "/static/" in response.url:
            return
        try:
            bodies.append((response.url, response.body().decode("latin-1")))
        except Exception:  # noqa: BLE001 - redirects and aborted requests have no body
            pass

    page.on("response", keep)
    login(page, live_server.url, student.username)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    viewer_ready(page)
    page.locator("#viewer").focus()
    page.keyboard.press("End")
    wait_frame_counter(page, "6 / 6")
    page.wait_for_load_state("networkidle")
    urls = [u for u, _ in bodies]
    assert any("/metadata" in u for u in urls) and any("/frames/" in u for u in urls)
    for url, body in bodies:
        found = QUIZ_SECRETS.search(body.lower())
        assert not found, f"{url} shows {found.group()!r}"
    # The key image opens, without what was drawn or written on it.
    assert page.locator("#viewer-overlay .annotation").count() == 0
    assert page.get_by_role("button", name="Annotations").is_hidden()
    assert page.locator("#key-strip").inner_text().strip() == "Key image 1"
    screenshot(page, "viewer-6-quiz-unanswered")

    page.get_by_label("Your diagnosis").first.fill("pneumothorax")
    page.get_by_role("button", name="Check answer").click()
    page.wait_for_selector("#quiz-result.correct")
    viewer_ready(page)
    assert frame_counter(page) == "4 / 6"
    assert page.locator("#viewer-overlay line.annotation").count() == 1
    assert page.locator("#viewer-overlay text").text_content() == "PTX"


def _touch(cdp, kind: str, points: list[tuple[float, float]]) -> None:
    cdp.send(
        "Input.dispatchTouchEvent",
        {"type": kind, "touchPoints": [{"x": px, "y": py, "id": n} for n, (px, py) in
                                       enumerate(points)]},
    )  # fmt: skip


def test_the_viewer_on_a_phone(live_server, browser, screenshot, teacher, student):
    case = make_case(teacher, ct_stack(12), title="Chest CT on a phone")
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="en-US"
    )
    page = context.new_page()
    found = watch(page)
    try:
        login(page, live_server.url, student.username)
        page.goto(f"{live_server.url}/cases/{case.pk}/")
        viewer_ready(page)
        stage = page.locator("#viewer-stage").bounding_box()
        # The image comes first, the full width, above the fold.
        assert stage["width"] >= 386 and stage["y"] < 200, stage
        title = page.locator("h1").bounding_box()
        assert title["y"] > stage["y"] + stage["height"]
        # The controls are one row (it scrolls sideways), the page itself does not.
        toolbar = page.locator(".viewer-toolbar").bounding_box()
        assert toolbar["height"] < 60 and toolbar["y"] < 844 - toolbar["height"]
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > 391
                             && !e.closest(".viewer-toolbar, .series-strip, .key-strip"))
                .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)"""
        )
        assert not wide, f"the page must not scroll sideways on a phone: {wide}"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        # Touch: the scroll tool is active; a swipe moves through the stack.
        assert page.locator("button[data-tool=scroll]").get_attribute("aria-pressed") == "true"
        cdp = context.new_cdp_session(page)
        x, y = stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2
        _touch(cdp, "touchStart", [(x, y - 60)])
        for step in range(1, 13):
            _touch(cdp, "touchMove", [(x, y - 60 + step * 12)])
        _touch(cdp, "touchEnd", [])
        page.wait_for_function(
            "() => document.getElementById('frame-counter').textContent !== '1 / 12'"
        )
        assert int(frame_counter(page).split(" / ")[0]) > 1
        # Two fingers apart: pinch zoom.
        before = page.locator("#zoom-level").inner_text()
        _touch(cdp, "touchStart", [(x - 30, y), (x + 30, y)])
        for step in range(1, 11):
            _touch(cdp, "touchMove", [(x - 30 - step * 8, y), (x + 30 + step * 8, y)])
        _touch(cdp, "touchEnd", [])
        page.wait_for_function(
            "b => document.getElementById('zoom-level').textContent !== b", arg=before
        )
        screenshot(page, "viewer-7-phone")
        assert found == [], found
    finally:
        context.close()
