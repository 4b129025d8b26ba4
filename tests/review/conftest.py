"""A draft case whose CT carries faint identifying text, uploaded from the browser and processed
in-process; the teacher-review task is captured instead of queued."""

from __future__ import annotations

import numpy as np
import pytest

from archive.models import Instance
from tests.browser.conftest import browser, page, screenshot  # noqa: F401 - the browser tests
from tests.deid.pixels.synthetic import Text, alpha_mask, blend
from tests.editor.builders import case_with_images

# Faint text over soft tissue (about +14 HU on ~40 HU): the kind a teacher sees on a wide window
# and the automatic detector may leave. Where it is drawn, in pixels of CT_small (128 × 128).
FAINT_TEXT = [Text("DOE JANE 1970", (18, 96), size=10)]
# The teacher's box around it (x, y, width, height).
TEACHER_BOX = (14, 92, 96, 18)


def burn_faint_text(ds) -> None:
    frame = ds.pixel_array
    alpha = alpha_mask(frame.shape, FAINT_TEXT)
    base = float(np.median(frame[alpha > 0.5]))
    ds.PixelData = blend(frame, alpha, base + 14).astype(frame.dtype).tobytes()


def text_mask() -> np.ndarray:
    return alpha_mask((128, 128), FAINT_TEXT) > 0.25


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Series ids the review would have queued (``archive.redact_series``), in order."""
    from archive import tasks

    calls: list[int] = []
    monkeypatch.setattr(tasks.redact_series, "delay", lambda series_id: calls.append(series_id))
    return calls


@pytest.fixture
def review_case(teacher, phi_file, queued):
    return case_with_images(
        teacher, [phi_file("CT_small.dcm", dataset_hook=burn_faint_text)], title="Faint text"
    )


@pytest.fixture
def ct_instance(review_case) -> Instance:
    return Instance.objects.select_related("series__study").get(series__study__case=review_case)
