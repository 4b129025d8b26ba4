"""Revisions of published cases: the author changes a published case as a new revision; students
keep seeing the published text until a curator publishes the revision.

A revision is a snapshot of what the editor edits (``CaseRevision.fields``, the editor form's
values) and of the series list (description, order, lead). Nothing of it touches the case, so the
case page, search, autocomplete, exports and DICOMweb (which all read the case) show the published
text until :func:`publish_revision` applies it through the editor's own form (the same diagnosis
and tag handling) and re-indexes the case.

A curator may edit the published case directly while a revision is pending. The revision keeps
what the case held when it was started (its base), and publishing merges field by field
(:func:`merge_revision`): what the author changed is applied, what the author left alone keeps
the case's current value; a field (or series' description, the series order, the lead series)
changed both by the author and directly since the base is a conflict, and publishing is refused
naming it (:class:`RevisionConflict`) unless the curator explicitly chooses to override.

States: draft → submitted → published (the revision published before it: superseded), or
submitted → returned (with a comment) → submitted again, or withdrawn by its author (and when the
case is unpublished). Who may do what is the privacy policy's (``can_revise_case``,
``can_edit_revision``, ``can_view_revision``); the services check it too.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

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
CONFLICT = gettext_noop(
    "Since this revision was started, the published case was also changed directly in: "
    "%(fields)s. The revision changes the same, so publishing it would overwrite those "
    "changes. Return the revision with a comment, or publish it replacing the direct changes."
)

__all__ = [
    "Merge",
    "RevisionConflict",
    "base_from_token",
    "base_token",
    "case_fields",
    "conflict_message",
    "check_fields",
    "merge_revision",
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


BASE_SALT = "archive.revision-base"


def base_token(case: Case) -> str:
    """The case as the revision editor shows it before a revision exists, signed: sent back
    with the first save, it is the new revision's base (the case may change directly between
    the editor's opening and that save)."""
    return signing.dumps(
        {"fields": case_fields(case), "series": series_snapshot(case)},
        salt=BASE_SALT,
        compress=True,
    )


def base_from_token(token: str) -> dict | None:
    """The base a :func:`base_token` holds; None for a missing or tampered token."""
    try:
        base = signing.loads(token, salt=BASE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(base, dict) or not {"fields", "series"} <= base.keys():
        return None
    return base


@transaction.atomic
def open_revision(*, case: Case, user, base: dict | None = None) -> CaseRevision:
    """The author's revision in progress, or a new draft holding the published case, whose base
    is ``base`` (what the editor showed, from :func:`base_from_token`) or the case as it is now.
    The first revision of a case also records the published original (number 1) for the
    history."""
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
        case=case,
        number=last + 1,
        author=user,
        fields=fields,
        series=series,
        base_fields=base["fields"] if base else fields,
        base_series=base["series"] if base else series,
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
    return bool(merge_revision(revision).changed)


# --- Three-way merge ---------------------------------------------------------------------------


class RevisionConflict(ValidationError):
    """Publishing would overwrite direct changes to the case: ``names`` are the parts changed
    both by the revision and directly since it was started, ``labels`` their names as shown."""

    def __init__(self, names: list[str], labels: list[str]):
        self.names, self.labels = names, labels
        super().__init__(CONFLICT, code="conflict")


def conflict_message(labels: list[str]) -> str:
    """The refusal in the active language, naming the fields."""
    return gettext(CONFLICT) % {"fields": ", ".join(labels)}


@dataclass
class Merge:
    """What publishing the revision does: ``fields`` and ``series`` the case will hold,
    ``changed`` the parts the author changed (applied), ``direct`` the parts changed directly
    since the revision was started (kept), ``conflicts`` the parts in both, changed differently
    (names: a form field, ``series-order``, ``series-lead``, ``series-<id>``)."""

    fields: dict
    series: list[dict]
    changed: list[str]
    direct: list[str]
    conflicts: list[str]
    labels: dict[str, str]

    def conflict_labels(self) -> list[str]:
        return [self.labels[name] for name in self.conflicts]


def _series_parts(series: list[dict], ids: set[int]) -> dict[str, object]:
    """The series list as mergeable parts, restricted to ``ids`` (the series all three sides
    know): the order, the lead, each series' description."""
    kept = sorted((s for s in series if s["id"] in ids), key=lambda s: s["order"])
    parts: dict[str, object] = {
        "series-order": tuple(s["id"] for s in kept),
        "series-lead": next((s["id"] for s in kept if s["lead"]), None),
    }
    for s in kept:
        parts[f"series-{s['id']}"] = s["description"] or ""
    return parts


def merge_revision(revision: CaseRevision, *, case_now: dict | None = None) -> Merge:
    """Three-way merge of the revision (the author's side) with the case as it stands (the
    direct side) against the revision's base. A revision without a base (started before bases
    were recorded) counts every difference to the case as the author's."""
    case = revision.case
    current = case_now if case_now is not None else case_fields(case)
    now_series = series_snapshot(case)
    base = revision.base_fields if revision.base_fields is not None else current
    base_series = revision.base_series if revision.base_series is not None else now_series
    theirs, ours, old = _comparable(revision.fields), _comparable(current), _comparable(base)
    labels = _labels()
    changed, direct, conflicts = [], [], []
    fields = dict(current)
    for name in labels:
        author_changed = theirs.get(name) != old.get(name)
        direct_changed = ours.get(name) != old.get(name)
        if author_changed:
            changed.append(name)
            fields[name] = revision.fields.get(name)
        if direct_changed:
            direct.append(name)
        if author_changed and direct_changed and theirs.get(name) != ours.get(name):
            conflicts.append(name)

    # Series deleted (or added) since: only the ones all three sides know are merged.
    ids = (
        {s["id"] for s in now_series}
        & {s["id"] for s in revision.series}
        & {s["id"] for s in base_series}
    )
    p_theirs = _series_parts(revision.series, ids)
    p_ours, p_old = _series_parts(now_series, ids), _series_parts(base_series, ids)
    merged = dict(p_ours)
    by_id = {s["id"]: s for s in now_series}
    for name in p_ours:
        author_changed = p_theirs[name] != p_old[name]
        direct_changed = p_ours[name] != p_old[name]
        if author_changed:
            changed.append(name)
            merged[name] = p_theirs[name]
        if direct_changed:
            direct.append(name)
        if author_changed and direct_changed and p_theirs[name] != p_ours[name]:
            conflicts.append(name)
        if name.startswith("series-") and name[7:].isdigit():
            s = by_id[int(name[7:])]
            labels[name] = gettext("Description of series %(n)d (%(modality)s)") % {
                "n": s["order"],
                "modality": s["modality"],
            }
    labels["series-order"] = gettext("Series order")
    labels["series-lead"] = gettext("Lead series")
    return Merge(
        fields=fields,
        series=_merged_series(now_series, merged),
        changed=changed,
        direct=direct,
        conflicts=conflicts,
        labels=labels,
    )


def _merged_series(now_series: list[dict], parts: dict) -> list[dict]:
    """The series list as the case will hold it: the merged order of the series all sides
    know, then any series added since in their current order."""
    order = list(parts["series-order"]) + [
        s["id"] for s in now_series if s["id"] not in parts["series-order"]
    ]
    by_id = {s["id"]: s for s in now_series}
    lead = parts["series-lead"]
    if lead is None:  # a series added since may lead
        current = next((s["id"] for s in now_series if s["lead"]), None)
        lead = current if current not in parts["series-order"] else None
    out = []
    for n, pk in enumerate(order, start=1):
        s = by_id[pk]
        out.append(
            {
                **s,
                "order": n,
                "description": parts.get(f"series-{pk}", s["description"]),
                "lead": pk == lead,
            }
        )
    return out


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
def publish_revision(*, revision: CaseRevision, user, override: bool = False) -> Case:
    """Apply what the revision changed to the case through the editor's form, and the series
    list as merged (series deleted meanwhile are skipped); re-index the case on commit.

    Parts changed both by the revision and directly since it was started raise
    :class:`RevisionConflict` (nothing applied) unless ``override``: the curator chose to
    replace the direct changes with the revision's."""
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
    merge = merge_revision(revision)
    if merge.conflicts and not override:
        raise RevisionConflict(merge.conflicts, merge.conflict_labels())
    form = CaseForm(data=_form_data(merge.fields), instance=case)
    if not form.is_valid():
        # The vocabulary may have changed since it was saved (a code withdrawn...): the author
        # fixes it; nothing was applied.
        raise ValidationError(
            gettext_noop("The revision no longer passes the editor's checks: return it.")
        )
    form.save()
    _apply_series(case, merge.series)
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
    """Write the merged series list: descriptions that differ, the positions when the order
    changed, the lead when it changed."""
    now = series_snapshot(case)
    by_id = {s["id"]: s for s in now}
    existing = set(Series.objects.filter(study__case=case).values_list("pk", flat=True))
    merged = [s for s in series if s["id"] in existing]
    reorder = [s["id"] for s in merged] != [s["id"] for s in now if s["id"] in existing]
    for s in merged:
        changes = {}
        if s["description"] != by_id[s["id"]]["description"]:
            changes["description"] = s["description"][:200]
        if reorder:
            changes["position"] = s["order"]
        if changes:
            Series.objects.filter(pk=s["id"]).update(**changes)
    lead = next((s["id"] for s in merged if s["lead"]), None)
    if lead is not None and not by_id[lead]["lead"]:
        Case.objects.filter(pk=case.pk).update(lead_series_id=lead, lead_instance=None)


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
    #: Also changed directly since the revision was started: publishing would overwrite it.
    conflict: bool = False


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
    """What publishing the revision changes for students: every text field the author changed
    against the published case now, and the series list, line by line (``difflib``). A part
    also changed directly since the revision was started is marked ``conflict``; parts changed
    only directly are not listed (publishing keeps them)."""
    case = revision.case
    current = case_fields(case)
    merge = merge_revision(revision, case_now=current)
    diffs = []
    for name in _labels():
        old, new = current.get(name), merge.fields.get(name)
        if (old or None) == (new or None):
            continue
        boolean = isinstance(old, bool) or isinstance(new, bool)
        lines = _line_diff(_lines_of(old), _lines_of(new))
        diffs.append(
            FieldDiff(
                name,
                merge.labels[name],
                lines,
                boolean=boolean,
                conflict=name in merge.conflicts,
            )
        )
    old_series = _series_lines(series_snapshot(case))
    new_series = _series_lines(merge.series)
    if old_series != new_series:
        diffs.append(
            FieldDiff(
                "series",
                gettext_noop("Series"),
                _line_diff(old_series, new_series),
                conflict=any(name.startswith("series-") for name in merge.conflicts),
            )
        )
    return diffs
