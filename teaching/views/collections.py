"""Collection pages: the list, one collection (its owner edits it here: add, reorder by drag or
keyboard, note, lead image, show as unknown, sharing), duplicate and delete. Thin: the work is
in ``teaching.services.collections``; who sees what is ``archive.privacy``'s."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from archive import privacy
from archive.models import Case
from archive.views.cases import viewable_case_or_404
from teaching import selectors
from teaching.models import Collection, CollectionEntry
from teaching.services import collections as services


def collection_or_404(request, pk: int) -> Collection:
    collection = get_object_or_404(Collection.objects.select_related("owner"), pk=pk)
    if not privacy.can_view_collection(request.user, collection):
        raise Http404  # a private collection does not exist for anyone else
    return collection


def owned_collection(request, pk: int) -> Collection:
    collection = collection_or_404(request, pk)
    if not privacy.can_edit_collection(request.user, collection):
        raise PermissionDenied
    return collection


def _entry(collection: Collection, entry_pk: int) -> CollectionEntry:
    return get_object_or_404(
        CollectionEntry.objects.select_related("case", "collection"),
        pk=entry_pk,
        collection=collection,
    )


def _error(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
def collection_list(request):
    user = request.user
    visible = privacy.visible_collections(user).select_related("owner")
    return render(
        request,
        "teaching/collection_list.html",
        {
            "mine": visible.filter(owner=user),
            "shared": visible.filter(visibility=Collection.Visibility.SHARED).exclude(owner=user),
            "public": visible.filter(visibility=Collection.Visibility.PUBLIC).exclude(owner=user),
            "can_create": privacy.is_teacher(user),
            "visibility_choices": Collection.Visibility.choices,
        },
    )


@login_required
@require_POST
def collection_create(request):
    if not privacy.is_teacher(request.user):
        raise PermissionDenied
    try:
        collection = services.create_collection(
            owner=request.user,
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
            visibility=request.POST.get("visibility", Collection.Visibility.PRIVATE),
        )
    except ValidationError as exc:
        _error(request, exc)
        return redirect("teaching:collection-list")
    messages.success(request, _("Collection created. Add cases from their pages or by number."))
    return redirect(collection)


@login_required
def collection_detail(request, pk: int):
    collection = collection_or_404(request, pk)
    user = request.user
    policy = privacy.policy_for(user)
    owner = privacy.can_edit_collection(user, collection)
    rows = []
    for n, entry in enumerate(privacy.shown_entries(user, collection), 1):
        view = privacy.entry_view(user, entry, policy)
        rows.append(
            {
                "n": n,
                "entry": entry,
                "view": view,
                "unknown": entry.show_as_unknown and view.hidden,
                "lead": selectors.entry_lead_image(entry=entry),
                "choices": services.lead_choices(entry.case) if owner else [],
                "lead_value": (
                    f"key:{entry.lead_key_image_id}"
                    if entry.lead_key_image_id
                    else f"series:{entry.lead_series_id}"
                    if entry.lead_series_id
                    else ""
                ),
            }
        )
    hidden_count = collection.entries.count() - len(rows) if owner else 0
    return render(
        request,
        "teaching/collection_detail.html",
        {
            "collection": collection,
            "rows": rows,
            "owner": owner,
            "can_present": privacy.can_present_collection(user, collection),
            "can_assign": owner and user.taught_classes.exists(),
            "unpublished_count": hidden_count,
            "visibility_choices": Collection.Visibility.choices,
            "shared_names": " ".join(collection.shared_with.values_list("username", flat=True)),
            "reorder_text": {
                "moved": _("Moved “%(title)s” to position %(n)s of %(total)s."),
                "failed": _("The new order could not be saved. Reload the page and try again."),
            },
        },
    )


@login_required
@require_POST
def collection_edit(request, pk: int):
    collection = owned_collection(request, pk)
    try:
        unknown = services.update_collection(
            collection=collection,
            user=request.user,
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
            visibility=request.POST.get("visibility", ""),
            shared_usernames=request.POST.get("shared_with", ""),
        )
    except ValidationError as exc:
        _error(request, exc)
    else:
        if unknown:
            messages.error(
                request,
                _("Not shared with %(names)s: only teachers of the archive can be named.")
                % {"names": ", ".join(unknown)},
            )
        messages.success(request, _("Collection saved."))
    return redirect(collection)


@login_required
@require_POST
def entry_add(request, pk: int):
    collection = owned_collection(request, pk)
    case_pk = services.parse_case_reference(request.POST.get("case", ""))
    case = Case.objects.filter(pk=case_pk).first() if case_pk else None
    if case is None or not privacy.can_view_case(request.user, case):
        messages.error(request, _("No published case has that number. Copy the case's link."))
        return redirect(collection)
    try:
        services.add_case(collection=collection, user=request.user, case=case)
    except ValidationError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Case added to the collection."))
    return redirect(collection)


@login_required
@require_POST
def case_collect(request, pk: int):
    """“Add to collection” on a case page."""
    case = viewable_case_or_404(request, pk)
    raw = request.POST.get("collection", "")
    collection = Collection.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
    if collection is None or not privacy.can_edit_collection(request.user, collection):
        if not privacy.is_teacher(request.user):
            raise PermissionDenied
        messages.error(request, _("Choose one of your collections."))
        return redirect(case)
    try:
        services.add_case(collection=collection, user=request.user, case=case)
    except ValidationError as exc:
        _error(request, exc)
        return redirect(case)
    messages.success(
        request, _("Added to the collection “%(title)s”.") % {"title": collection.title}
    )
    return redirect(case)


@login_required
@require_POST
def entry_edit(request, pk: int, entry_pk: int):
    collection = owned_collection(request, pk)
    entry = _entry(collection, entry_pk)
    try:
        services.update_entry(
            entry=entry,
            user=request.user,
            note=request.POST.get("note", ""),
            show_as_unknown=request.POST.get("show_as_unknown") == "on",
            lead=request.POST.get("lead", ""),
        )
    except ValidationError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect(f"{collection.get_absolute_url()}#entry-{entry.pk}")


@login_required
@require_POST
def entry_remove(request, pk: int, entry_pk: int):
    collection = owned_collection(request, pk)
    services.remove_entry(entry=_entry(collection, entry_pk), user=request.user)
    messages.success(request, _("Case removed from the collection."))
    return redirect(collection)


@login_required
@require_POST
def entry_move(request, pk: int, entry_pk: int):
    collection = owned_collection(request, pk)
    entry = _entry(collection, entry_pk)
    offsets = {"up": -1, "down": 1, "top": -10_000, "bottom": 10_000}
    offset = offsets.get(request.POST.get("direction", ""))
    if offset is None:
        return JsonResponse({"error": _("Say which way to move the case.")}, status=400)
    services.move_entry(entry=entry, user=request.user, offset=offset)
    order = list(collection.entries.order_by("position", "pk").values_list("pk", flat=True))
    if _wants_json(request):
        return JsonResponse({"order": order})
    return redirect(f"{collection.get_absolute_url()}#entry-{entry.pk}")


@login_required
@require_POST
def collection_reorder(request, pk: int):
    collection = owned_collection(request, pk)
    try:
        ids = [int(v) for v in json.loads(request.body or b"{}").get("order", [])]
        services.reorder(collection=collection, user=request.user, entry_ids=ids)
    except (ValueError, TypeError, AttributeError, json.JSONDecodeError):
        return JsonResponse({"error": _("Send the new order of the cases.")}, status=400)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    order = list(collection.entries.order_by("position", "pk").values_list("pk", flat=True))
    return JsonResponse({"order": order})


@login_required
@require_POST
def collection_duplicate(request, pk: int):
    collection = collection_or_404(request, pk)
    copy = services.duplicate_collection(collection=collection, user=request.user)
    messages.success(request, _("This is your copy. Change it as you like."))
    return redirect(copy)


@login_required
@require_POST
def collection_delete(request, pk: int):
    collection = owned_collection(request, pk)
    try:
        services.delete_collection(collection=collection, user=request.user)
    except ValidationError as exc:
        _error(request, exc)
        return redirect(collection)
    messages.success(request, _("Collection deleted."))
    return redirect("teaching:collection-list")
