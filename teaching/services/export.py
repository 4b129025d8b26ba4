"""A collection as a PowerPoint deck (python-pptx), for teachers who present from their own
laptop: a title slide, then per case a question slide (history and the anonymized lead image,
an unknown's title withheld) and an answer slide (diagnosis, findings, teaching points, the key
image with its annotations drawn as shapes). The teacher's note goes to the question slide's
speaker notes.

Images are the archive's own renderings of de-identified instances (``archive.rendering``);
nothing else of the DICOM files goes into the deck.
"""

from __future__ import annotations

import io

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_CONNECTOR, MSO_SHAPE
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from archive import privacy
from archive.rendering import FrameNotFound, render_frame
from archive.services import quiz
from teaching import selectors
from teaching.models import Collection

SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
IMAGE_BOX = (Inches(7.0), Inches(0.5), Inches(5.8), Inches(6.5))  # left, top, width, height
TEXT_BOX = (MARGIN, Inches(1.5), Inches(6.2), Inches(5.5))
RENDER_SIZE = 1024
MARK = RGBColor(0xFF, 0xC0, 0x00)


def _blank(prs):
    return prs.slides.add_slide(prs.slide_layouts[6])


def _title(slide, text: str, size: int = 32) -> None:
    box = slide.shapes.add_textbox(MARGIN, Inches(0.4), Inches(6.3), Inches(1.0))
    frame = box.text_frame
    frame.word_wrap = True
    frame.text = text
    frame.paragraphs[0].runs[0].font.size = Pt(size)
    frame.paragraphs[0].runs[0].font.bold = True


def _paragraphs(slide, sections: list[tuple[str, str]]) -> None:
    box = slide.shapes.add_textbox(*TEXT_BOX)
    frame = box.text_frame
    frame.word_wrap = True
    first = True
    for heading, body in sections:
        if not body and not heading:
            continue
        p = frame.paragraphs[0] if first else frame.add_paragraph()
        first = False
        run = p.add_run()
        run.text = heading
        run.font.bold, run.font.size = True, Pt(18)
        for line in body.splitlines():
            if line.strip():
                q = frame.add_paragraph()
                r = q.add_run()
                r.text = line.strip()
                r.font.size = Pt(16)


def _picture(slide, lead: selectors.LeadImage | None):
    """The rendered image, fitted into the image box; returns (left, top, width, height, image
    width, image height) in EMU and pixels, or None."""
    if lead is None:
        return None
    try:
        data, _etag = render_frame(lead.instance, lead.frame, "default", RENDER_SIZE)
    except (FrameNotFound, OSError, ValueError):
        return None
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
    left, top, box_w, box_h = IMAGE_BOX
    scale = min(box_w / width, box_h / height)
    w, h = int(width * scale), int(height * scale)
    x, y = left + (box_w - w) // 2, top + (box_h - h) // 2
    slide.shapes.add_picture(io.BytesIO(data), Emu(x), Emu(y), Emu(w), Emu(h))
    return x, y, w, h


def _outline(shape) -> None:
    shape.fill.background()
    shape.line.color.rgb = MARK
    shape.line.width = Pt(2.5)


def _annotations(slide, placed, annotations: list[dict]) -> None:
    """The key image's arrows, circles and the lesion's region as shapes over the picture."""
    x, y, w, h = placed
    for a in annotations:
        kind = a.get("type")
        if kind in ("circle", "ellipse"):
            rx = a["r"] * w if kind == "circle" else a["rx"] * w
            ry = a["r"] * w if kind == "circle" else a["ry"] * h
            shape = slide.shapes.add_shape(
                MSO_SHAPE.OVAL,
                Emu(int(x + a["cx"] * w - rx)),
                Emu(int(y + a["cy"] * h - ry)),
                Emu(int(2 * rx)),
                Emu(int(2 * ry)),
            )
            _outline(shape)
        elif kind == "polygon":
            points = [(int(x + px * w), int(y + py * h)) for px, py in a["points"]]
            builder = slide.shapes.build_freeform(*points[0], scale=1.0)
            builder.add_line_segments(points[1:] + points[:1], close=True)
            _outline(builder.convert_to_shape())
        elif kind == "arrow":
            line = slide.shapes.add_connector(
                MSO_CONNECTOR.STRAIGHT,
                Emu(int(x + a["x1"] * w)),
                Emu(int(y + a["y1"] * h)),
                Emu(int(x + a["x2"] * w)),
                Emu(int(y + a["y2"] * h)),
            )
            line.line.color.rgb = MARK
            line.line.width = Pt(3)
            ln = line.line._get_or_add_ln()
            ln.append(ln.makeelement(qn("a:tailEnd"), {"type": "triangle"}))


def collection_deck(*, collection: Collection, user) -> bytes:
    """The deck as bytes; ``PermissionDenied`` is the caller's to raise (teachers only)."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H
    entries = list(privacy.shown_entries(user, collection))
    policy = privacy.policy_for(user)

    first = _blank(prs)
    _title(first, collection.title, 40)
    _paragraphs(
        first,
        [
            (
                _("%(n)s cases") % {"n": len(entries)},
                collection.description,
            )
        ],
    )
    for n, entry in enumerate(entries, 1):
        case = entry.case
        shown = privacy.presenter_view(user, collection, case)
        if shown is None:
            continue
        asked = privacy.unknown_view(policy.view(case))
        # The question: nothing of the answer (an unknown's title withheld altogether).
        question = _blank(prs)
        heading = (
            _("Unknown case %(n)s") % {"n": n}
            if entry.show_as_unknown
            else _("Case %(n)s: %(title)s") % {"n": n, "title": asked.title}
        )
        _title(question, heading)
        facts = " · ".join(
            str(v)
            for v in (
                case.get_modality_display(),
                case.get_body_region_display(),
                case.get_age_group_display() if case.age_group else "",
                case.get_sex_display() if case.sex else "",
            )
            if v
        )
        _paragraphs(question, [(facts, ""), (_("Clinical history"), asked.text(case.history))])
        _picture(question, selectors.entry_lead_image(entry=entry))
        if entry.note:
            question.notes_slide.notes_text_frame.text = entry.note
        # The answer.
        answer = _blank(prs)
        _title(answer, _("Case %(n)s: answer") % {"n": n}, 28)
        diagnosis = quiz.display_name(case.diagnosis, get_language()) if case.diagnosis else ""
        if case.is_normal:
            diagnosis = _("Normal study") + (f" — {diagnosis}" if diagnosis else "")
        sections = [
            (_("Title"), case.title),
            (_("Diagnosis"), diagnosis),
            (_("Findings"), case.findings),
            (_("Teaching points"), case.teaching_points),
        ]
        _paragraphs(answer, [(h, b) for h, b in sections if b])
        key = selectors.target_key_image(case=case) or case.key_images.first()
        lead = (
            selectors.LeadImage(instance=key.instance, frame=key.frame, key_image=key)
            if key is not None
            else selectors.entry_lead_image(entry=entry)
        )
        placed = _picture(answer, lead)
        if placed and key is not None:
            _annotations(answer, placed, key.annotations or [])
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()
