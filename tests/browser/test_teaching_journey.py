"""The teaching loop in a real browser (issue 13's "Done when"): a teacher marks a lesion, builds
a 5-case collection with one normal study, reorders it by keyboard and by drag, presents it in
conference mode step by step, exports it as PowerPoint and assigns it to a class of two
students; each student answers (clicking the lesion), the review queue brings the missed case
back tomorrow, and the teacher's results show both students, the share correct and the common
wrong answer. Screenshots go to var/screenshots/."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from pptx import Presentation

from archive.models import Case, KeyImage
from teaching.models import Assignment, Attempt, Collection, ReviewCard
from teaching.services.review import review_queue
from tests.browser.conftest import login, logout
from tests.conftest import _user
from tests.teaching.conftest import own_study
from tests.viewer.factories import ct_stack, make_case, pneumothorax

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _cases(teacher) -> dict[str, Case]:
    from archive.models import Diagnosis

    def make(title, publish=True, spacing=None, **fields):
        return make_case(
            teacher, ct_stack(1, hook=own_study(spacing)), title=title, publish=publish, **fields
        )

    return {
        # A draft until the teacher has marked its lesion.
        "ptx": make("Chest pain after a long flight", publish=False, spacing=(0.5, 0.8),
                    history="Tall young man, sudden chest pain.", diagnosis=pneumothorax(),
                    findings="Visceral pleural line, no lung markings beyond it."),
        "nodule": make("Solitary nodule", history="Smoker with a cough.",
                       diagnosis=Diagnosis.objects.create(name="Pulmonary nodule")),
        "normal": make("Screening chest CT", history="Screening.", is_normal=True),
        "fracture": make("Fall from a ladder", history="Fell two metres.",
                         diagnosis=Diagnosis.objects.create(name="Rib fracture")),
        "effusion": make("Breathless for a week", history="Breathless.", quiz_mode=True,
                         diagnosis=Diagnosis.objects.create(name="Pleural effusion")),
    }  # fmt: skip


def _drag_ellipse(page, target: str) -> None:
    box = page.locator(f"{target} img").bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + box["width"] * 0.1, y0 + box["height"] * 0.1, steps=4)
    page.mouse.move(x0 + box["width"] * 0.2, y0 + box["height"] * 0.2, steps=4)
    page.mouse.up()


def _answer(page, answer: str, click: tuple[float, float] | None = None) -> str:
    """Answer the case on the page; returns the result's text."""
    if click is not None:
        image = page.locator("#lesion-click img")
        box = image.bounding_box()
        image.click(position={"x": box["width"] * click[0], "y": box["height"] * click[1]})
        page.wait_for_function("() => document.getElementById('click-x').value !== ''")
    page.get_by_label("Your diagnosis").fill(answer)
    page.get_by_role("button", name="Check answer").click()
    page.wait_for_selector("#attempt-result")
    return page.locator("#attempt-result").inner_text()


def _student_answers(page, base, username, answers: dict[str, tuple], order, screenshot):
    login(page, base, username)
    page.get_by_role("link", name="Chest emergencies").first.click()
    page.wait_for_url("**/teaching/assignments/*/")
    page.get_by_role("link", name=re.compile(r"^Case 1")).click()
    for n, key in enumerate(order, 1):
        page.wait_for_selector("form.answer-form")
        assert f"Case {n} of 5" in page.locator("h1").inner_text()
        answer, click, verdict = answers[key]
        result = _answer(page, answer, click)
        assert verdict in result, (key, result)
        if n == 1:
            screenshot(page, f"teaching-6-{username}-result")
        if n < len(order):
            page.locator("#next-case").click()
    logout(page)


def test_collection_conference_assignment_review_results(
    live_server, page, screenshot, violations, teacher, student, tmp_path
):
    base = live_server.url
    second = _user("student2", "student")
    cases = _cases(teacher)
    ptx = cases["ptx"]
    KeyImage.objects.create(case=ptx, instance=ptx.instances().first(), caption="Look here")

    # --- The teacher marks the lesion on the key image of the draft, which is then published.
    login(page, base, teacher.username)
    page.goto(f"{base}/teaching/cases/{ptx.pk}/lesion/")
    page.wait_for_function("() => document.querySelector('#lesion-draw img').naturalWidth > 0")
    _drag_ellipse(page, "#lesion-draw")
    page.get_by_role("button", name="Save region").click()
    page.wait_for_selector("text=Region saved")
    screenshot(page, "teaching-1-lesion-editor")
    region = next(a for a in KeyImage.objects.get(case=ptx).annotations if a["type"] == "ellipse")
    assert region["cx"] == pytest.approx(0.5, abs=0.02) and region["rx"] == pytest.approx(
        0.1, abs=0.02
    )
    Case.objects.filter(pk=ptx.pk).update(status=Case.Status.PUBLISHED)

    # --- A collection of five cases, one of them a normal study.
    page.locator("header nav").get_by_role("link", name="Collections").click()
    page.get_by_label("Title").fill("Chest emergencies")
    page.get_by_role("button", name="Create collection").click()
    page.wait_for_url("**/teaching/collections/*/")
    collection = Collection.objects.get(title="Chest emergencies")
    for key in ("ptx", "nodule", "normal", "fracture"):
        page.get_by_label("Case number or link").fill(f"{base}/cases/{cases[key].pk}/")
        page.get_by_role("button", name="Add", exact=True).click()
        page.wait_for_selector("text=Case added to the collection.")
    # The fifth from its own page.
    page.goto(f"{base}/cases/{cases['effusion'].pk}/")
    page.get_by_label("Add to collection").select_option(label="Chest emergencies")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_selector("text=Added to the collection")
    assert collection.entries.count() == 5

    def order() -> list[str]:
        return list(collection.entries.order_by("position").values_list("case__title", flat=True))

    page.goto(f"{base}/teaching/collections/{collection.pk}/")
    entries = {e.case_id: e.pk for e in collection.entries.all()}
    # Keyboard: the effusion case's handle, Alt+↑ twice.
    handle = page.locator(f"#entry-{entries[cases['effusion'].pk]} .handle")
    handle.focus()
    page.keyboard.press("Alt+ArrowUp")
    page.wait_for_function(
        "() => document.getElementById('reorder-status').textContent.includes('position 4')"
    )
    page.keyboard.press("Alt+ArrowUp")
    page.wait_for_function(
        "() => document.getElementById('reorder-status').textContent.includes('position 3')"
    )
    assert order()[2] == "Breathless for a week"
    # Drag: the fracture case onto the nodule (dropped on its upper half: before it).
    page.locator(f"#entry-{entries[cases['fracture'].pk]}").drag_to(
        page.locator(f"#entry-{entries[cases['nodule'].pk]}"),
        target_position={"x": 40, "y": 5},
    )
    page.wait_for_function(
        "() => document.getElementById('reorder-status').textContent.includes('Fall from')"
    )
    expected = [
        "Chest pain after a long flight",
        "Fall from a ladder",
        "Solitary nodule",
        "Breathless for a week",
        "Screening chest CT",
    ]
    assert order() == expected
    # The lesion case is shown as unknown.
    entry = page.locator(f"#entry-{entries[ptx.pk]}")
    entry.locator("summary").click()
    entry.get_by_label("Show as unknown").check()
    entry.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Saved.")
    screenshot(page, "teaching-2-collection")

    # --- Conference mode: history, then images, then the teacher's reveal.
    page.get_by_role("link", name="Present (conference mode)").click()
    page.wait_for_url("**/present/")
    first = page.locator("#slide-1")
    assert first.locator("h1").inner_text() == "Unknown case 1"
    assert first.locator(".step-history").is_visible()
    assert not first.locator(".step-images").is_visible()
    html = page.content()
    assert "Pneumothorax" not in html and "Visceral pleural line" not in html
    assert "Chest pain after a long flight" not in html
    page.keyboard.press("PageDown")
    first.locator(".step-images img").first.wait_for()
    assert not first.locator(".step-reveal").is_visible()
    screenshot(page, "teaching-3-conference-images")
    page.keyboard.press("PageDown")
    page.wait_for_selector("#slide-1 .reveal-diagnosis")
    assert "Pneumothorax" in first.locator(".reveal-diagnosis").inner_text()
    assert first.locator(".step-reveal ellipse.region").count() == 1
    screenshot(page, "teaching-4-conference-reveal")
    page.keyboard.press("b")
    assert page.locator("#blackout").is_visible()
    page.keyboard.press("b")
    assert not page.locator("#blackout").is_visible()
    page.keyboard.press("PageDown")
    assert page.locator("#slide-2").is_visible() and not first.is_visible()
    assert page.locator("#slide-2 h1").inner_text().endswith("from a ladder")
    page.keyboard.press("PageUp")
    assert first.is_visible() and first.locator(".reveal-diagnosis").is_visible()

    # --- The PowerPoint export opens with python-pptx.
    page.goto(f"{base}/teaching/collections/{collection.pk}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export as PowerPoint").click()
    path = tmp_path / "deck.pptx"
    download.value.save_as(path)
    deck = Presentation(str(path))
    texts = [
        "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
        for slide in deck.slides
    ]
    assert len(texts) == 11
    assert "Unknown case 1" in texts[1] and "Pneumothorax" not in texts[1]
    assert "Pneumothorax" in texts[2]
    assert "Normal study" in texts[10]

    # --- A class of two students, the collection assigned.
    page.locator("header nav").get_by_role("link", name="Classes").click()
    page.get_by_label("Name").fill("Year 4 radiology")
    page.get_by_role("button", name="Create class").click()
    page.get_by_label("Add students by user name").fill(f"{student.username}\n{second.username}")
    page.get_by_role("button", name="Add students").click()
    page.wait_for_selector("text=Added to the class: student1, student2.")
    page.get_by_label("Collection").select_option(label="Chest emergencies")
    page.get_by_role("button", name="Assign").click()
    page.wait_for_selector("text=Assigned.")
    assignment = Assignment.objects.get()
    assert assignment.due_at > timezone.now() + dt.timedelta(days=6)
    logout(page)

    # --- Each student answers; one clicks on the lesion, the other beside it.
    keys = ["ptx", "fracture", "nodule", "effusion", "normal"]
    _student_answers(
        page, base, student.username,
        {"ptx": ("pneumothorax", (0.52, 0.5), "Your click was on the lesion."),
         "fracture": ("rib fracture", None, "Correct!"),
         "nodule": ("pneumothorax", None, "Not quite."),
         "effusion": ("pleural effusion", None, "Correct!"),
         "normal": ("normal", None, "Correct!")},
        keys, screenshot,
    )  # fmt: skip
    _student_answers(
        page, base, second.username,
        {"ptx": ("pneumothorax", (0.1, 0.1), "mm from the lesion."),
         "fracture": ("broken rib", None, "Not quite."),
         "nodule": ("PTX", None, "Not quite."),
         "effusion": ("pleural effusion", None, "Correct!"),
         "normal": ("normal", None, "Correct!")},
        keys, screenshot,
    )  # fmt: skip
    assert Attempt.objects.filter(answered_at__isnull=False).count() == 10

    # --- The missed case comes back tomorrow in the student's review queue.
    missed = ReviewCard.objects.get(user=student, case=cases["nodule"])
    today = timezone.localtime().date()
    assert timezone.localtime(missed.due).date() == today + dt.timedelta(days=1)
    tomorrow = timezone.localtime().replace(hour=0, minute=1) + dt.timedelta(days=1)
    assert [(i.case, i.reason) for i in review_queue(user=student, now=tomorrow).items] == [
        (cases["nodule"], "due")
    ]
    login(page, base, student.username)
    page.locator("header nav").get_by_role("link", name="Review").click()
    assert "Nothing due today. Next review:" in page.locator("main").inner_text()
    screenshot(page, "teaching-7-review")
    logout(page)

    # --- The teacher's results.
    login(page, base, teacher.username)
    page.locator("header nav").get_by_role("link", name="Classes").click()
    page.get_by_role("link", name="Year 4 radiology").click()
    page.get_by_role("link", name="Results").first.click()
    page.wait_for_selector("#results-cases")
    main = page.locator("main").inner_text()
    assert "10 answers, 70 % correct." in main
    students = page.locator("#results-students").inner_text()
    assert "student1" in students and "student2" in students
    nodule_row = page.locator("#results-cases tr", has_text="Solitary nodule").inner_text()
    assert "0 %" in nodule_row and "Pneumothorax (2)" in nodule_row
    assert page.locator("svg circle.heat").count() == 2
    screenshot(page, "teaching-8-results")
    assert not violations, violations
