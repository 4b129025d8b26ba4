"""Which image a case leads with (search thumbnails, the viewer's first image), every rule in
order, for a page of cases at once in one query: the teacher's lead image, else the first image
of the teacher's lead series, else the first key image, else the first image of the series
with the most images. Images without pixels never lead."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model

from archive.models import Case, Instance, KeyImage, Series, Study
from archive.selectors import lead_images

pytestmark = pytest.mark.django_db

_uid = itertools.count(1)


def _case(owner) -> Case:
    return Case.objects.create(owner=owner, title=f"Lead case {next(_uid)}")


def _series(case: Case, images: list[int | None], *, number: int, pixels: bool = True):
    """A series whose instances carry these instance numbers (the order they are made in is
    the reverse, so the primary key alone would pick the wrong first image)."""
    study = case.studies.first() or Study.objects.create(case=case, study_uid=f"1.2.{next(_uid)}")
    series = Series.objects.create(study=study, series_uid=f"1.3.{next(_uid)}", number=number)
    made = [
        Instance.objects.create(
            series=series, sop_uid=f"1.4.{next(_uid)}", instance_number=n, has_pixels=pixels
        )
        for n in reversed(images)
    ]
    return series, {i.instance_number: i for i in made}


def test_each_rule_in_order_for_a_page_of_cases_in_one_query(django_assert_num_queries):
    owner = get_user_model().objects.create(username="lead-teacher")
    # The longest series leads; its first image by instance number (a missing number last).
    longest = _case(owner)
    _series(longest, [1, 2], number=1)
    _, big = _series(longest, [None, 3, 2, 5], number=2)
    _series(longest, [1, 2, 3, 4, 5], number=3, pixels=False)  # no pixels: counts nothing
    # A key image leads over the longest series; the first by order, with pixels only.
    keyed = _case(owner)
    _, imgs = _series(keyed, [1, 2, 3], number=1)
    _, blank = _series(keyed, [1], number=2, pixels=False)
    KeyImage.objects.create(case=keyed, instance=blank[1], frame=0, order=0)
    KeyImage.objects.create(case=keyed, instance=imgs[3], frame=4, order=2)
    KeyImage.objects.create(case=keyed, instance=imgs[2], frame=1, order=1)
    # The teacher's lead series leads over key images, even when it is the shorter one.
    chosen_series = _case(owner)
    short, few = _series(chosen_series, [7, 4], number=1)
    _, many = _series(chosen_series, [1, 2, 3], number=2)
    KeyImage.objects.create(case=chosen_series, instance=many[1], order=0)
    chosen_series.lead_series = short
    chosen_series.save()
    # The teacher's lead image leads over everything, if it has pixels.
    chosen_image = _case(owner)
    _, imgs2 = _series(chosen_image, [1, 2], number=1)
    KeyImage.objects.create(case=chosen_image, instance=imgs2[1], order=0)
    chosen_image.lead_instance = imgs2[2]
    chosen_image.save()
    # A lead image without pixels is passed over (here: to the longest series).
    blank_lead = _case(owner)
    _, blanks = _series(blank_lead, [1], number=1, pixels=False)
    _, rest = _series(blank_lead, [2, 1], number=2)
    blank_lead.lead_instance = blanks[1]
    blank_lead.save()
    # A lead series without any image with pixels: nothing leads (no falling back).
    empty_series = _case(owner)
    nothing, _ = _series(empty_series, [1], number=1, pixels=False)
    _series(empty_series, [1], number=2)
    empty_series.lead_series = nothing
    empty_series.save()
    no_images = _case(owner)

    ids = [c.pk for c in (longest, keyed, chosen_series, chosen_image, blank_lead, empty_series)]
    with django_assert_num_queries(1):
        leads = lead_images(case_ids=[*ids, no_images.pk])
    assert leads == {
        longest.pk: (big[2].pk, 0),
        keyed.pk: (imgs[2].pk, 1),
        chosen_series.pk: (few[4].pk, 0),
        chosen_image.pk: (imgs2[2].pk, 0),
        blank_lead.pk: (rest[1].pk, 0),
    }
    with django_assert_num_queries(0):
        assert lead_images(case_ids=[]) == {}
