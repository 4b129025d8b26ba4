"""A student in a real browser: scrolls a 12-slice CT with keys and wheel, changes and drags the
window, zooms, plays cine, starts at the key image, answers two quiz cases (one wrong, one right)
and reads "My progress". A curator marks a key image with an arrow. Screenshots go to
var/screenshots/student-*.png. (tests/browser/test_viewer.py tests the viewer itself in depth,
on a phone too.)"""

from __future__ import annotations

import pytest

from archive.models import Diagnosis, KeyImage
from tests.browser.conftest import frame_counter, login, viewer_ready, wait_frame_counter
from tests.viewer.factories import ct_stack, make_case, pneumothorax, rgb_multiframe

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


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
    viewer_ready(page)

    # Key images first: the viewer opens on the key image; an unanswered quiz shows none of
    # what the teacher drew or wrote on it.
    assert page.locator("#key-strip").is_visible()
    wait_frame_counter(page, "4 / 12")
    assert page.locator("#viewer-overlay .annotation").count() == 0
    assert "pneumothorax" not in page.content().lower()
    screenshot(page, "student-1-key-image")

    # Keyboard: arrows, End, Home.
    page.locator("#viewer").focus()
    page.keyboard.press("ArrowDown")
    wait_frame_counter(page, "5 / 12")
    page.keyboard.press("End")
    wait_frame_counter(page, "12 / 12")
    page.keyboard.press("Home")
    wait_frame_counter(page, "1 / 12")

    # Wheel over the image scrolls.
    box = page.locator("#viewport").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.wheel(0, 120)
    wait_frame_counter(page, "2 / 12")
    page.mouse.wheel(0, 120)
    wait_frame_counter(page, "3 / 12")

    # Preset, then a window/level drag, both in the browser.
    page.get_by_label("Window").select_option("lung")
    page.wait_for_function(
        "() => document.getElementById('wl-readout').textContent === 'W 1500 L -600'"
    )
    page.mouse.move(cx, cy)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(cx + step * 15, cy + step * 6)
    page.mouse.up()
    assert page.locator("#wl-readout").inner_text() != "W 1500 L -600"
    screenshot(page, "student-2-window-drag")

    # Zoom with the button and with the keyboard; reset.
    page.get_by_role("button", name="Zoom in").click()
    page.wait_for_function("() => document.getElementById('zoom-level').textContent === '125%'")
    page.locator("#viewer").focus()
    page.keyboard.press("+")
    page.wait_for_function("() => document.getElementById('zoom-level').textContent === '156%'")
    screenshot(page, "student-3-zoomed")
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function("() => document.getElementById('zoom-level').textContent === '100%'")

    # Cine on the CT stack: play, frames advance, C pauses.
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

    # The colour multi-frame series (ultrasound-like cine loop), from the series strip.
    page.locator("#series-strip button").nth(1).click()
    wait_frame_counter(page, "1 / 2")
    viewer_ready(page)
    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(600)
    page.get_by_role("button", name="Pause").click()
    assert "Colour" in page.locator("#wl-readout").inner_text()

    # Quiz 1: a wrong free-text answer reveals the diagnosis marked incorrect.
    page.get_by_label("Your diagnosis").first.fill("pleural effusion")
    page.get_by_role("button", name="Check answer").click()
    page.wait_for_selector("#quiz-result.incorrect")
    assert page.locator(".diagnosis").inner_text().startswith("Pneumothorax")
    viewer_ready(page)
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


def test_curator_marks_a_key_image_with_an_arrow(live_server, page, screenshot, curator, cases):
    ct, _ = cases
    base = live_server.url
    login(page, base, curator.username)
    page.goto(f"{base}/cases/{ct.pk}/")
    viewer_ready(page)
    wait_frame_counter(page, "4 / 12")
    page.locator("#viewer").focus()
    page.keyboard.press("ArrowDown")  # slice 5
    wait_frame_counter(page, "5 / 12")
    page.locator("#key-editor summary").click()
    page.get_by_label("Arrow").check()
    page.get_by_label("Label of the next shape").fill("pleural line")
    # The square image fills the height of the wider stage, centred.
    page.locator("#viewport").scroll_into_view_if_needed()
    box = page.locator("#viewport").bounding_box()
    side = min(box["width"], box["height"])
    left = box["x"] + (box["width"] - side) / 2
    top = box["y"] + (box["height"] - side) / 2
    page.mouse.move(left + side * 0.2, top + side * 0.2)
    page.mouse.down()
    page.mouse.move(left + side * 0.5, top + side * 0.5, steps=5)
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
