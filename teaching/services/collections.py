"""Collections: a teacher's ordered set of published cases. Create, fill, reorder, annotate,
share and duplicate. Every change checks the user may make it (``archive.privacy``)."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from archive import privacy
from archive.models import Case, Series
from teaching.models import Collection, CollectionEntry

_CASE_REF_RE = re.compile(r"(?:/cases/)?(\d+)/?$")
MAX_ENTRIES = 200


def _owned(user, collection: Collection) -> None:
    if not privacy.can_edit_collection(user, collection):
        raise PermissionDenied


def create_collection(
    *, owner, title: str, description: str = "", visibility: str = Collection.Visibility.PRIVATE
) -> Collection:
    if not privacy.is_teacher(owner):
        raise PermissionDenied
    title = " ".join((title or "").split())[:200]
    if not title:
        raise ValidationError(_("Give the collection a title."))
    if visibility not in Collection.Visibility.values:
        visibility = Collection.Visibility.PRIVATE
    return Collection.objects.create(
        owner=owner, title=title, description=description.strip(), visibility=visibility
    )


@transaction.atomic
def update_collection(
    *,
    collection: Collection,
    user,
    title: str,
    description: str,
    visibility: str,
    shared_usernames: str = "",
) -> list[str]:
    """Save the settings; returns the names that are not teachers of the archive (not shared)."""
    _owned(user, collection)
    title = " ".join((title or "").split())[:200]
    if not title:
        raise ValidationError(_("Give the collection a title."))
    if visibility not in Collection.Visibility.values:
        raise ValidationError(_("Choose who may see the collection."))
    names = [n for n in re.split(r"[\s,;]+", shared_usernames or "") if n]
    found = [
        u
        for u in get_user_model().objects.filter(username__in=names, is_active=True)
        if privacy.is_teacher(u) and u.pk != collection.owner_id
    ]
    collection.title, collection.description = title, (description or "").strip()
    collection.visibility = visibility
    collection.save()
    collection.shared_with.set(found)
    known = {u.username for u in found}
    return [n for n in names if n not in known and n != collection.owner.username]


def parse_case_reference(text: str) -> int | None:
    """A case number or a link to a case page (``https://…/cases/12/``)."""
    match = _CASE_REF_RE.search((text or "").strip())
    return int(match.group(1)) if match else None


@transaction.atomic
def add_case(*, collection: Collection, user, case: Case) -> CollectionEntry:
    _owned(user, collection)
    if not case.is_published or not privacy.can_view_case(user, case):
        raise ValidationError(_("Only published cases can be added to a collection."))
    if collection.entries.filter(case=case).exists():
        raise ValidationError(_("This case is already in the collection."))
    if collection.entries.count() >= MAX_ENTRIES:
        raise ValidationError(_("A collection holds at most %(n)s cases.") % {"n": MAX_ENTRIES})
    last = collection.entries.aggregate(m=Max("position"))["m"]
    entry = CollectionEntry.objects.create(
        collection=collection, case=case, position=0 if last is None else last + 1
    )
    collection.save(update_fields=["updated_at"])
    return entry


@transaction.atomic
def remove_entry(*, entry: CollectionEntry, user) -> None:
    _owned(user, entry.collection)
    collection = entry.collection
    entry.delete()
    _renumber(collection)


def _renumber(collection: Collection, order: list[int] | None = None) -> None:
    entries = list(collection.entries.select_for_update().order_by("position", "pk"))
    if order is not None:
        rank = {pk: n for n, pk in enumerate(order)}
        entries.sort(key=lambda e: (rank.get(e.pk, len(rank)), e.position, e.pk))
    for n, entry in enumerate(entries):
        if entry.position != n:
            entry.position = n
            entry.save(update_fields=["position"])
    collection.save(update_fields=["updated_at"])


@transaction.atomic
def move_entry(*, entry: CollectionEntry, user, offset: int) -> None:
    """Move one place up (``-1``) or down (``+1``), or to the top/bottom for larger offsets."""
    _owned(user, entry.collection)
    ids = list(entry.collection.entries.order_by("position", "pk").values_list("pk", flat=True))
    here = ids.index(entry.pk)
    there = max(0, min(len(ids) - 1, here + offset))
    ids.insert(there, ids.pop(here))
    _renumber(entry.collection, ids)


@transaction.atomic
def reorder(*, collection: Collection, user, entry_ids: list[int]) -> None:
    """Put the entries in the order given (what a drag and drop sent); every entry once."""
    _owned(user, collection)
    current = set(collection.entries.values_list("pk", flat=True))
    if len(entry_ids) != len(set(entry_ids)) or set(entry_ids) != current:
        raise ValidationError(_("The order must list every case of the collection once."))
    _renumber(collection, entry_ids)


def lead_choices(case: Case) -> list[tuple[str, str]]:
    """What an entry may lead with: ``key:<id>`` or ``series:<id>`` values and their labels."""
    choices = []
    for n, key in enumerate(case.key_images.all(), 1):
        label = _("Key image %(n)s") % {"n": n} + (f": {key.caption}" if key.caption else "")
        choices.append((f"key:{key.pk}", label))
    for series in case.studies.all().prefetch_related("series"):
        for s in series.series.all():
            label = _("Series %(n)s") % {"n": s.number or s.pk}
            label += f": {s.description}" if s.description else ""
            choices.append((f"series:{s.pk}", label))
    return choices


@transaction.atomic
def update_entry(
    *, entry: CollectionEntry, user, note: str, show_as_unknown: bool, lead: str = ""
) -> None:
    _owned(user, entry.collection)
    entry.note = (note or "").strip()[:4000]
    entry.show_as_unknown = bool(show_as_unknown)
    entry.lead_key_image = entry.lead_series = None
    kind, _sep, pk = (lead or "").partition(":")
    if kind == "key" and pk.isdigit():
        entry.lead_key_image = entry.case.key_images.filter(pk=int(pk)).first()
    elif kind == "series" and pk.isdigit():
        entry.lead_series = Series.objects.filter(pk=int(pk), study__case=entry.case).first()
    if lead and entry.lead_key_image is None and entry.lead_series is None:
        raise ValidationError(_("Choose an image of this case to lead with."))
    entry.save()
    entry.collection.save(update_fields=["updated_at"])


@transaction.atomic
def duplicate_collection(*, collection: Collection, user) -> Collection:
    """A private copy owned by ``user``, with the entries ``user`` is shown."""
    if not (privacy.is_teacher(user) and privacy.can_view_collection(user, collection)):
        raise PermissionDenied
    copy = Collection.objects.create(
        owner=user,
        title=(_("%(title)s (copy)") % {"title": collection.title})[:200],
        description=collection.description,
        visibility=Collection.Visibility.PRIVATE,
    )
    for n, entry in enumerate(privacy.shown_entries(user, collection)):
        CollectionEntry.objects.create(
            collection=copy,
            case=entry.case,
            position=n,
            note=entry.note,
            show_as_unknown=entry.show_as_unknown,
            lead_key_image=entry.lead_key_image,
            lead_series=entry.lead_series,
        )
    return copy


@transaction.atomic
def delete_collection(*, collection: Collection, user) -> None:
    _owned(user, collection)
    if collection.assignments.exists():
        raise ValidationError(
            _("This collection is assigned to a class: delete the assignments first.")
        )
    collection.delete()
