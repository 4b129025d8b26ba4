"""A draft case whose CT carries faint identifying text, uploaded from the browser and processed
in-process; the teacher-review task is captured instead of queued."""

from __future__ import annotations

import pytest

from archive.models import Instance
from tests.editor.builders import case_with_images
from tests.review.faint_text import burn_faint_text


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
