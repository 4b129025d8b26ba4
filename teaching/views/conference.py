"""Conference mode (a lecture hall: full screen, one case at a time, step by step, keyboard and
clicker friendly) and the PowerPoint export. Teachers who may see the collection only.

Nothing of the answer is in the presenting page: each case shows its history and images as an
unknown (``archive.privacy.unknown_view``); the findings, diagnosis and teaching points arrive
from the reveal URL when the teacher steps to them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from archive import privacy
from archive.packages.export import export_package
from archive.services import quiz
from teaching import selectors
from teaching.services.export import collection_deck
from teaching.views.collections import collection_or_404


def _presentable(request, pk: int):
    collection = collection_or_404(request, pk)
    if not privacy.can_present_collection(request.user, collection):
        raise PermissionDenied
    return collection


def _images(entry) -> list[selectors.LeadImage]:
    lead = selectors.entry_lead_image(entry=entry)
    images = [lead] if lead else []
    for key in entry.case.key_images.select_related("instance"):
        if key.instance.has_pixels and not any(
            i.instance.pk == key.instance_id and i.frame == key.frame for i in images
        ):
            images.append(selectors.LeadImage(instance=key.instance, frame=key.frame))
    return images[:4]


@never_cache
@login_required
def present(request, pk: int):
    collection = _presentable(request, pk)
    policy = privacy.policy_for(request.user)
    slides = []
    entries = list(privacy.shown_entries(request.user, collection))
    for n, entry in enumerate(entries, 1):
        case = entry.case
        view = privacy.unknown_view(policy.view(case))
        slides.append(
            {
                "n": n,
                "entry": entry,
                "case": case,
                "heading": (
                    _("Unknown case %(n)s") % {"n": n} if entry.show_as_unknown else view.title
                ),
                "history": view.text(case.history),
                "images": [i.url(1024) for i in _images(entry)],
                "reveal_url": reverse("teaching:collection-reveal", args=[collection.pk, entry.pk]),
            }
        )
    return render(
        request,
        "teaching/present.html",
        {
            "collection": collection,
            "slides": slides,
            "total": len(slides),
            "present_text": {
                "revealFailed": _("The answer could not be loaded. Press the key again."),
                "caseOf": _("Case %(n)s of %(total)s"),
            },
        },
    )


@never_cache
@login_required
def reveal(request, pk: int, entry_pk: int):
    collection = _presentable(request, pk)
    entry = next(
        (e for e in privacy.shown_entries(request.user, collection) if e.pk == entry_pk), None
    )
    if entry is None:
        raise Http404
    case = entry.case
    view = privacy.presenter_view(request.user, collection, case)
    if view is None:
        raise Http404
    key = (
        selectors.target_key_image(case=case) or case.key_images.select_related("instance").first()
    )
    return render(
        request,
        "teaching/_reveal.html",
        {
            "entry": entry,
            "case": case,
            "diagnosis_name": (
                quiz.display_name(case.diagnosis, get_language()) if case.diagnosis else ""
            ),
            "key": key,
            "key_url": (
                reverse("instance-frame", args=[key.instance_id, key.frame])
                + "?preset=default&size=1024"
                if key
                else ""
            ),
        },
    )


@login_required
def export_pptx(request, pk: int):
    collection = _presentable(request, pk)
    data = collection_deck(collection=collection, user=request.user)
    name = slugify(collection.title)[:60] or "collection"
    response = HttpResponse(
        data,
        content_type="application/vnd.openxmlformats-officedocument.presentationml.presentation",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.pptx"'
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@login_required
def export_package_view(request, pk: int):
    """The collection's cases, in its order, as one case package for another archive (the
    anonymized images and the whole case text of each). Only the cases this teacher may export
    go in (``privacy.can_export_case``: not a quiz they have not answered); none → 403."""
    collection = _presentable(request, pk)
    cases = [
        entry.case
        for entry in privacy.shown_entries(request.user, collection)
        if privacy.can_export_case(request.user, entry.case)
    ]
    if not cases:
        raise PermissionDenied
    response = HttpResponse(export_package(cases, request.user), content_type="application/zip")
    # A neutral name: the collection's title may name a diagnosis.
    response["Content-Disposition"] = (
        f'attachment; filename="collection-{collection.pk}-package.zip"'
    )
    response["Cache-Control"] = "private, no-store"
    return response
