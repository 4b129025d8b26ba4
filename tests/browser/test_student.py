"""A student in a real browser: scrolls a 12-slice CT with keys and wheel, changes and drags the
window, zooms, plays cine, starts at the key image, answers two quiz cases (one wrong, one right)
and reads "My progress". A curator marks a key image with an arrow. Screenshots go to
var/screenshots/student-*.png."""

from __future__ import annotations

import pytest

from archive.models import Diagnosis, KeyImage
from tests.browser.conftest import login
from tests.viewer.factories import ct_stack, make_case, pneumothorax, rgb_multiframe

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _image_ready(page) -> None:
    page.wait_for_function(
        "() => { const i = document.getElementById('viewer-image');"
        " return i.complete && i.naturalWidth > 0; }"
    )


def _counter(page) -> str:
    return page.locator("#frame-counter").inner_text()


def _src(page) -> str:
    return page.locator("#viewer-image").get_attribute("src")


@pytest.fixture
def cases(teacher):
    ct = make_case(
        teacher,
        ct_stack(12) + [rgb_multiframe()],
        title="Sudden chest pain after a flight",
        history="A 24-year-old tall man with sudden right-sided chest pain and dyspnoea.",
        findings="Visceral pleural line with absent lung markings laterally.",
        diagnosis=pneumothorax(),
        differential="Pleural effusion\nBulla\nSkin fold",
        discussion="Primary spontaneous pneumothorax in a tall young man.",
        organ_system="chest",
        quiz_mode=True,
    )
    slice_4 = ct.instances().filter(frames=1).get(instance_number=4)
    KeyImage.objects.create(
        case=ct,
        instance=slice_4,
        frame=0,
        caption="Look at the apex",
        annotations=[
            {"type": "arrow", "x1": 0.15, "y1": 0.15, "x2": 0.42, "y2": 0.4, "label": "here"},
            {"type": "circle", "cx": 0.7, "cy": 0.6, "r": 0.12, "label": ""},
        ],
    )
    hcc = Diagnosis.objects.create(
        name="Hepatocellular carcinoma",
        icd10="C22.0",
        synonyms="HCC",
        name_cs="Hepatocelulární karcinom",
    )
    liver = make_case(
        teacher,
        ct_stack(2),
        title="Liver lesion in cirrhosis",
        history="Cirrhosis, rising AFP.",
        diagnosis=hcc,
        differential="Regenerative nodule\nHaemangioma\nMetastasis",
        organ_system="gastrointestinal",
        body_region="abdomen",
        quiz_mode=True,
    )
    return ct, liver


def test_student_scrolls_windows_zooms_plays_and_takes_quizzes(
    live_server, page, screenshot, student, cases
):
    ct, liver = cases
    base = live_server.url
    login(page, base, student.username)
    page.goto(f"{base}/cases/{ct.pk}/")
    _image_ready(page)

    # Key images first: the viewer opens on the key image, with its annotations drawn as SVG.
    assert page.locator("#key-strip").is_visible()
    assert _counter(page) == "4 / 12"
    assert page.locator("#viewer-overlay line.annotation").count() == 1
    assert page.locator("#viewer-overlay circle.annotation").count() == 1
    assert "pneumothorax" not in page.content().lower()
    screenshot(page, "student-1-key-image")

    # Keyboard: Tab-free focus on the viewer, arrows, End, Home.
    page.locator("#viewer").focus()
    page.keyboard.press("ArrowDown")
    assert _counter(page) == "5 / 12"
    page.keyboard.press("End")
    assert _counter(page) == "12 / 12"
    page.keyboard.press("Home")
    assert _counter(page) == "1 / 12"
    assert page.locator("#viewer-overlay line").count() == 0  # no key image here

    # Wheel over the image scrolls.
    box = page.locator("#viewer-stage").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.wheel(0, 120)
    page.wait_for_function(
        "() => document.getElementById('frame-counter').textContent === '2 / 12'"
    )
    page.mouse.wheel(0, 120)
    page.wait_for_function(
        "() => document.getElementById('frame-counter').textContent === '3 / 12'"
    )
    _image_ready(page)

    # Preset, then a window/level drag: the server is asked for a custom window.
    page.get_by_label("Window").select_option("lung")
    page.wait_for_function(
        "() => document.getElementById('viewer-image').src.includes('preset=lung')"
    )
    _image_ready(page)
    before = _src(page)
    page.mouse.move(cx, cy)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(cx + step * 15, cy + step * 6)
    page.mouse.up()
    page.wait_for_function("() => document.getElementById('viewer-image').src.includes('wc=')")
    after = _src(page)
    assert after != before and "ww=" in after
    assert page.locator("#wl-readout").inner_text().startswith("W ")
    _image_ready(page)
    screenshot(page, "student-2-window-drag")

    # Zoom with the button and with the keyboard; reset.
    page.get_by_role("button", name="Zoom in").click()
    assert page.locator("#zoom-level").inner_text() == "125%"
    page.locator("#viewer").focus()
    page.keyboard.press("+")
    assert page.locator("#zoom-level").inner_text() == "156%"
    assert "scale(1.5625)" in page.locator("#viewer-canvas").get_attribute("style")
    page.mouse.move(cx, cy)
    page.keyboard.down("Shift")
    page.mouse.down()
    page.mouse.move(cx + 60, cy + 30)
    page.mouse.up()
    page.keyboard.up("Shift")
    assert "translate(60px, 30px)" in page.locator("#viewer-canvas").get_attribute("style")
    screenshot(page, "student-3-zoomed")
    page.get_by_role("button", name="Reset view").click()
    assert page.locator("#zoom-level").inner_text() == "100%"
    assert "preset=lung" in _src(page) and "wc=" not in _src(page)

    # Cine on the CT stack: play, frames advance, space pauses.
    page.get_by_label("Frames per second").fill("20")
    page.get_by_role("button", name="Play").click()
    start = _counter(page)
    page.wait_for_function(
        "s => document.getElementById('frame-counter').textContent !== s", arg=start
    )
    page.wait_for_timeout(400)
    assert page.locator("#cine-play").get_attribute("aria-pressed") == "true"
    page.locator("#viewer").focus()
    page.keyboard.press(" ")
    assert page.locator("#cine-play").get_attribute("aria-pressed") == "false"
    paused = _counter(page)
    page.wait_for_timeout(300)
    assert _counter(page) == paused

    # The colour multi-frame series (ultrasound-like cine loop).
    page.get_by_label("Series").select_option("1")
    _image_ready(page)
    assert _counter(page).endswith("/ 2")
    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(600)
    page.get_by_role("button", name="Pause").click()
    assert "Colour" in page.locator("#wl-readout").inner_text()

    # Quiz 1: a wrong free-text answer reveals the diagnosis marked incorrect.
    page.get_by_label("Your diagnosis").first.fill("pleural effusion")
    page.get_by_role("button", name="Check answer").click()
    page.wait_for_selector("#quiz-result.incorrect")
    assert page.locator(".diagnosis").inner_text().startswith("Pneumothorax")
    _image_ready(page)
    screenshot(page, "student-4-quiz-wrong")

    # Quiz 2: multiple choice on another case, answered right.
    page.goto(f"{base}/cases/{liver.pk}/")
    assert "hepatocellular" not in page.content().lower()
    page.get_by_role("link", name="Answer from a list of choices instead").click()
    page.get_by_label("Hepatocellular carcinoma").check()
    screenshot(page, "student-5-quiz-choices")
    page.get_by_role("button", name="Check answer").click()
    page.wait_for_selector("#quiz-result.correct")
    screenshot(page, "student-6-quiz-correct")

    page.locator("#quiz-result").get_by_role("link", name="My progress").click()
    page.wait_for_selector("text=1 of 2 quiz cases correct (50 %).")
    assert page.locator("table.progress-table").first.inner_text().count("%") >= 2
    screenshot(page, "student-7-progress")


def test_viewer_on_a_phone(live_server, browser, screenshot, student, cases):
    ct, _ = cases
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="en-US"
    )
    page = context.new_page()
    try:
        login(page, live_server.url, student.username)
        page.goto(f"{live_server.url}/cases/{ct.pk}/")
        _image_ready(page)
        # Touch devices start with the scroll tool: a swipe moves through the stack.
        assert page.locator("input[name=drag-tool][value=scroll]").is_checked()
        box = page.locator("#viewer-stage").bounding_box()
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > 391)
                .map(e => e.tagName + '#' + e.id).slice(0, 3)"""
        )
        assert not wide, f"the page must not scroll sideways on a phone: {wide}"
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.evaluate(
            """([x, y]) => {
                const stage = document.getElementById('viewer-stage');
                const ev = (type, yy) => new PointerEvent(type, {pointerId: 7, pointerType: 'touch',
                    clientX: x, clientY: yy, bubbles: true, isPrimary: true, button: 0});
                stage.dispatchEvent(ev('pointerdown', y));
                for (let d = 6; d <= 60; d += 6) stage.dispatchEvent(ev('pointermove', y + d));
                stage.dispatchEvent(ev('pointerup', y + 60));
            }""",
            [x, y],
        )
        assert page.locator("#frame-counter").inner_text() == "9 / 12"
        _image_ready(page)
        screenshot(page, "student-8-phone")
    finally:
        context.close()


def test_curator_marks_a_key_image_with_an_arrow(live_server, page, screenshot, curator, cases):
    ct, _ = cases
    base = live_server.url
    login(page, base, curator.username)
    page.goto(f"{base}/cases/{ct.pk}/")
    _image_ready(page)
    page.locator("#viewer").focus()
    page.keyboard.press("ArrowDown")  # slice 5
    page.locator("#key-editor summary").click()
    page.get_by_label("Arrow").check()
    page.get_by_label("Label of the next shape").fill("pleural line")
    box = page.locator("#viewer-canvas").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=5)
    page.mouse.up()
    page.get_by_label("Caption").fill("Pleural line at the apex")
    page.get_by_role("button", name="Save as key image").click()
    page.wait_for_selector("text=is a key image")
    key = KeyImage.objects.get(instance__instance_number=5)
    (arrow,) = key.annotations
    assert arrow["type"] == "arrow" and arrow["label"] == "pleural line"
    assert abs(arrow["x1"] - 0.2) < 0.03 and abs(arrow["y2"] - 0.5) < 0.03
    assert page.locator("#key-strip li").count() == 2
    screenshot(page, "student-9-curator-key-image")
