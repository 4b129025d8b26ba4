"""Revisions of published cases: the author changes a published case as a new revision; students
keep seeing the published text until a curator publishes the revision.

A revision is a snapshot of what the editor edits (``CaseRevision.fields``, the editor form's
values) and of the series list (description, order, lead). Nothing of it touches the case, so the
case page, search, autocomplete, exports and DICOMweb (which all read the case) show the published
text until :func:`publish_revision` applies the snapshot through the editor's own form (the same
diagnosis and tag handling) and re-indexes the case.

States: draft → submitted → published (the revision published before it: superseded), or
submitted → returned (with a comment) → submitted again, or withdrawn by its author (and when the
case is unpublished). Who may do what is the privacy policy's (``can_revise_case``,
``can_edit_revision``, ``can_view_revision``); the services check it too.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_noop

from archive import privacy
from archive.models import Case, CaseRevision, Series
from archive.services.series_control import check_typed_text, ordered_series

#: Text fields searched for personal data like any text people type (the series' descriptions
#: too). Not the references: their authors' names belong there.
CHECKED_FIELDS = ("title", "history", "findings", "differential", "discussion", "teaching_points")

NOTHING_CHANGED = gettext_noop(
    "This revision changes nothing yet: edit the case, save, then submit the revision."
)
NOT_SUBMITTED = gettext_noop("Only a submitted revision can be published or returned.")
NOT_PUBLISHED = gettext_noop(
    "The case is no longer published, so the revision cannot be published. Edit the case itself."
)
NOT_OPEN = gettext_noop("This revision is no longer in progress.")
SAY_WHAT = gettext_noop("Say what the author should change.")

__all__ = [
    "case_fields",
    "check_fields",
    "open_revision",
    "pending_revision",
    "publish_revision",
    "return_revision",
    "revision_diff",
    "save_revision",
    "series_snapshot",
    "submit_revision",
    "withdraw_open_revisions",
    "withdraw_revision",
]


# --- Snapshots ---------------------------------------------------------------------------------


def case_fields(case: Case) -> dict:
    """The editor's fields of the case as it stands (what students see once it is published),
    in the form's terms: the diagnosis as name, code and Czech names; the tags as text."""
    from archive.forms import CaseForm

    form = CaseForm(instance=case)
    fields = {name: _plain(form[name].initial) for name in CaseForm.Meta.fields}
    # In one order whatever the database's collation (the revision form writes them so too).
    fields["tag_names"] = ", ".join(sorted((t.name for t in case.tags.all()), key=str.casefold))
    return fields


def _plain(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def series_snapshot(case: Case) -> list[dict]:
    """The series list as students get it: order, description, modality, lead."""
    lead = case.lead_series_id if not case.lead_instance_id else None
    return [
        {
            "id": s.pk,
            "order": n,
            "description": s.description,
            "modality": s.modality,
            "lead": s.pk == lead,
        }
        for n, s in enumerate(ordered_series(case), start=1)
    ]


def check_fields(fields: dict, series: list[dict]) -> dict[str, ValidationError]:
    """Field name (``series-<id>`` for a series) → the error for text that looks like personal
    data, by the free-text checker of the de-identification (the series controls' check)."""
    errors: dict[str, ValidationError] = {}
    for name in CHECKED_FIELDS:
        try:
            check_typed_text(str(fields.get(name) or ""))
        except ValidationError as exc:
            errors[name] = exc
    for s in series:
        try:
            check_typed_text(s.get("description") or "")
        except ValidationError as exc:
            errors[f"series-{s['id']}"] = exc
    return errors


# --- Workflow ----------------------------------------------------------------------------------


def pending_revision(case: Case) -> CaseRevision | None:
    """The case's revision in progress (draft, submitted or returned), if any."""
    return (
        CaseRevision.objects.filter(case=case, state__in=CaseRevision.OPEN_STATES)
        .select_related("author")
        .first()
    )


@transaction.atomic
def open_revision(*, case: Case, user) -> CaseRevision:
    """The author's revision in progress, or a new draft holding the published case. The first
    revision of a case also records the published original (number 1) for the history."""
    if not privacy.can_revise_case(user, case):
        raise PermissionDenied
    Case.objects.select_for_update().filter(pk=case.pk).first()  # one opener at a time
    existing = pending_revision(case)
    if existing is not None:
        return existing
    fields, series = case_fields(case), series_snapshot(case)
    last = CaseRevision.objects.filter(case=case).aggregate(m=Max("number"))["m"] or 0
    if last == 0:
        original = CaseRevision.objects.create(
            case=case,
            number=1,
            author=case.owner,
            state=CaseRevision.State.PUBLISHED,
            fields=fields,
            series=series,
        )
        CaseRevision.objects.filter(pk=original.pk).update(
            created_at=case.published_at or original.created_at,
            decided_at=case.published_at,
        )
        last = 1
    return CaseRevision.objects.create(
        case=case, number=last + 1, author=user, fields=fields, series=series
    )


@transaction.atomic
def save_revision(*, revision: CaseRevision, user, fields: dict, series: list[dict]) -> None:
    """The editor's values (already validated by its form) and the series list, checked for
    personal data (``ValidationError`` with the first finding)."""
    if not privacy.can_edit_revision(user, revision):
        raise PermissionDenied
    errors = check_fields(fields, series)
    if errors:
        raise next(iter(errors.values()))
    revision.fields = {k: _plain(v) for k, v in fields.items()}
    revision.series = series
    revision.save(update_fields=["fields", "series", "updated_at"])


def _comparable(fields: dict) -> dict:
    """Empty is empty, whether the form left a field out (None) or sent it blank."""
    return {k: (None if v in (None, "") else v) for k, v in fields.items()}


def _changes(revision: CaseRevision) -> bool:
    case = revision.case
    return _comparable(revision.fields) != _comparable(case_fields(case)) or _series_changes(
        revision.series, case
    )


def _series_changes(series: list[dict], case: Case) -> bool:
    now = {s["id"]: s for s in series_snapshot(case)}
    for s in series:
        current = now.get(s["id"])
        if current is None:
            continue  # deleted meanwhile: nothing to change
        if (s["description"], s["order"], s["lead"]) != (
            current["description"],
            current["order"],
            current["lead"],
        ):
            return True
    return False


@transaction.atomic
def submit_revision(*, revision: CaseRevision, user) -> CaseRevision:
    if not privacy.can_edit_revision(user, revision):
        raise PermissionDenied
    if not _changes(revision):
        raise ValidationError(NOTHING_CHANGED)
    revision.state = CaseRevision.State.SUBMITTED
    revision.submitted_at = timezone.now()
    revision.save(update_fields=["state", "submitted_at", "updated_at"])
    return revision


@transaction.atomic
def withdraw_revision(*, revision: CaseRevision, user) -> CaseRevision:
    """The author drops the revision: students go on seeing the published case."""
    if not (privacy.can_view_revision(user, revision) and revision.case.owner_id == user.pk):
        raise PermissionDenied
    if not revision.is_open:
        raise ValidationError(NOT_OPEN)
    revision.state = CaseRevision.State.WITHDRAWN
    revision.decided_at, revision.decided_by = timezone.now(), user
    revision.save(update_fields=["state", "decided_at", "decided_by", "updated_at"])
    return revision


def withdraw_open_revisions(case: Case) -> None:
    """When a case is unpublished its author edits the case itself: a revision in progress
    would no longer say what changes against what students see."""
    CaseRevision.objects.filter(case=case, state__in=CaseRevision.OPEN_STATES).update(
        state=CaseRevision.State.WITHDRAWN, decided_at=timezone.now()
    )


@transaction.atomic
def return_revision(*, revision: CaseRevision, user, comment: str) -> CaseRevision:
    if not privacy.is_curator(user):
        raise PermissionDenied
    if not comment.strip():
        raise ValidationError(SAY_WHAT)
    if revision.state != CaseRevision.State.SUBMITTED:
        raise ValidationError(NOT_SUBMITTED)
    revision.state = CaseRevision.State.RETURNED
    revision.review_comment = comment.strip()
    revision.decided_at, revision.decided_by = timezone.now(), user
    revision.save(
        update_fields=["state", "review_comment", "decided_at", "decided_by", "updated_at"]
    )
    return revision


@transaction.atomic
def publish_revision(*, revision: CaseRevision, user) -> Case:
    """Apply the revision to the case through the editor's form, the series list as it says
    (series deleted meanwhile are skipped), and re-index the case on commit."""
    from archive.forms import CaseForm
    from archive.services.cases import case_changed

    if not privacy.is_curator(user):
        raise PermissionDenied
    revision = CaseRevision.objects.select_for_update().get(pk=revision.pk)
    case = Case.objects.select_for_update().get(pk=revision.case_id)
    if revision.state != CaseRevision.State.SUBMITTED:
        raise ValidationError(NOT_SUBMITTED)
    if not case.is_published:
        raise ValidationError(NOT_PUBLISHED)
    form = CaseForm(data=_form_data(revision.fields), instance=case)
    if not form.is_valid():
        # The vocabulary may have changed since it was saved (a code withdrawn...): the author
        # fixes it; nothing was applied.
        raise ValidationError(
            gettext_noop("The revision no longer passes the editor's checks: return it.")
        )
    form.save()
    _apply_series(case, revision.series)
    CaseRevision.objects.filter(case=case, state=CaseRevision.State.PUBLISHED).update(
        state=CaseRevision.State.SUPERSEDED
    )
    revision.state = CaseRevision.State.PUBLISHED
    revision.review_comment = ""
    revision.decided_at, revision.decided_by = timezone.now(), user
    revision.save(
        update_fields=["state", "review_comment", "decided_at", "decided_by", "updated_at"]
    )
    transaction.on_commit(lambda: case_changed(case))
    return case


def _form_data(fields: dict) -> dict:
    """The snapshot as the form's POST data (a checkbox is absent when off)."""
    data = {}
    for name, value in fields.items():
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else str(value)
    return data


def _apply_series(case: Case, series: list[dict]) -> None:
    existing = {s.pk: s for s in Series.objects.filter(study__case=case)}
    lead = None
    for s in sorted(series, key=lambda s: s["order"]):
        current = existing.get(s["id"])
        if current is None:
            continue
        Series.objects.filter(pk=current.pk).update(
            description=s["description"][:200], position=s["order"]
        )
        if s["lead"]:
            lead = current
    if lead is not None and (case.lead_series_id != lead.pk or case.lead_instance_id):
        Case.objects.filter(pk=case.pk).update(lead_series=lead, lead_instance=None)


# --- Difference for the curator ----------------------------------------------------------------


@dataclass
class FieldDiff:
    """One changed field: its label and lines marked ``" "`` kept, ``"-"`` removed, ``"+"``
    added (plain text: the template escapes it)."""

    name: str
    label: str
    lines: list[tuple[str, str]] = field(default_factory=list)
    #: The lines are "yes"/"no" (a checkbox), translated where shown.
    boolean: bool = False


def _labels() -> dict[str, str]:
    from archive.forms import CaseForm

    form = CaseForm()
    return {name: str(form.fields[name].label) for name in CaseForm.Meta.fields}


def _lines_of(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool):
        return [gettext_noop("yes") if value else gettext_noop("no")]
    return str(value).splitlines() or ([""] if value == "" else [])


def _line_diff(old: list[str], new: list[str]) -> list[tuple[str, str]]:
    out = []
    for line in difflib.ndiff(old, new):
        mark, text = line[:1], line[2:]
        if mark in {" ", "-", "+"}:
            out.append((mark, text))
    return out


def _series_lines(series: list[dict]) -> list[str]:
    lines = []
    for s in sorted(series, key=lambda s: s["order"]):
        lead = " ★" if s["lead"] else ""
        lines.append(f"{s['order']}. {s['modality']} — {s['description'] or '—'}{lead}")
    return lines


def revision_diff(revision: CaseRevision) -> list[FieldDiff]:
    """The revision against what students see now (the published case): every changed text
    field and the series list, line by line (``difflib``)."""
    case = revision.case
    current = case_fields(case)
    labels = _labels()
    diffs = []
    for name, label in labels.items():
        old, new = current.get(name), revision.fields.get(name)
        if (old or None) == (new or None):
            continue
        boolean = isinstance(old, bool) or isinstance(new, bool)
        lines = _line_diff(_lines_of(old), _lines_of(new))
        diffs.append(FieldDiff(name, label, lines, boolean=boolean))
    # Series deleted since the revision was written are not in it: compare the ones left.
    ids = {s["id"] for s in series_snapshot(case)}
    old_series = _series_lines(series_snapshot(case))
    new_series = _series_lines([s for s in revision.series if s["id"] in ids])
    if old_series != new_series:
        diffs.append(
            FieldDiff("series", gettext_noop("Series"), _line_diff(old_series, new_series))
        )
    return diffs
