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
    from archive import scheduling

    calls: list[int] = []
    real_send = scheduling.send

    def send(name: str, *args, **kwargs) -> None:
        if name == "archive.redact_series":
            calls.append(*args)
        else:
            real_send(name, *args, **kwargs)

    monkeypatch.setattr(scheduling, "send", send)
    return calls


@pytest.fixture
def review_case(teacher, phi_file, queued):
    return case_with_images(
        teacher, [phi_file("CT_small.dcm", dataset_hook=burn_faint_text)], title="Faint text"
    )


@pytest.fixture
def ct_instance(review_case) -> Instance:
    return Instance.objects.select_related("series__study").get(series__study__case=review_case)
