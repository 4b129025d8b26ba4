"""Curators work here: review queue, de-identification audit, publish / return / unpublish,
bulk tags, diagnosis merging, uploads and the quarantine list (admin-only downloads)."""

from __future__ import annotations

import io

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Case as When_
from django.db.models import Count, IntegerField, Q, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from archive import privacy
from archive.forms import BulkTagForm, LinkCodeForm, ReturnCaseForm
from archive.models import (
    Case,
    CaseEvent,
    CaseRevision,
    Diagnosis,
    ReceivedStudyFailure,
    Series,
    Study,
    Tag,
    Upload,
    UploadItem,
)
from archive.selectors import case_series, image_count, with_file_counts
from archive.services import cases as case_services
from archive.services import revisions as revision_services
from archive.services.review import deid_audit, series_previews
from archive.services.tags import tags_from_text
from archive.views.case_page import viewer_data
from archive.vocabulary import services as vocabulary_services
from archive.vocabulary.selectors import diagnosis_suggestions

# Submitted cases first: they are what curators come here for.
QUEUE_ORDER = [
    Case.Status.SUBMITTED,
    Case.Status.RETURNED,
    Case.Status.DRAFT,
    Case.Status.PUBLISHED,
]


class RevisionFilter(admin.SimpleListFilter):
    """Published cases whose author submitted a revision: the curators' other queue."""

    title = gettext_lazy("revision")
    parameter_name = "revision"

    def lookups(self, request, model_admin):
        return [("submitted", _("Revision submitted for review"))]

    def queryset(self, request, queryset):
        if self.value() == "submitted":
            return queryset.filter(revisions__state=CaseRevision.State.SUBMITTED)
        return queryset


class HasCodeFilter(admin.SimpleListFilter):
    title = gettext_lazy("ICD-10 code")
    parameter_name = "coded"

    def lookups(self, request, model_admin):
        return [("no", _("Without a code (typed by a teacher)")), ("yes", _("With a code"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(icd10="")
        if self.value() == "yes":
            return queryset.exclude(icd10="")
        return queryset


@admin.register(Diagnosis)
class DiagnosisAdmin(admin.ModelAdmin):
    list_display = ["name", "icd10", "name_cs", "case_count"]
    list_filter = [HasCodeFilter]
    search_fields = ["name", "icd10", "synonyms", "name_cs", "synonyms_cs"]
    fields = ["name", "icd10", "synonyms", "name_cs", "synonyms_cs"]
    actions = ["merge_into_first", "link_to_code"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_cases=Count("cases"))

    @admin.display(description=gettext_lazy("cases"), ordering="n_cases")
    def case_count(self, obj):
        return obj.n_cases

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            # Its cases' documents carry its names and code: search must see the change.
            vocabulary_services.diagnosis_changed(obj.pk)

    @admin.action(description=gettext_lazy("File under an ICD-10 code…"), permissions=["change"])
    def link_to_code(self, request, queryset):
        form = LinkCodeForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            entry = form.cleaned_data["code"]
            for diagnosis in queryset:
                vocabulary_services.link_to_code(diagnosis, entry)
            self.message_user(
                request,
                ngettext(
                    "Filed %(n)d diagnosis under %(code)s %(title)s.",
                    "Filed %(n)d diagnoses under %(code)s %(title)s.",
                    len(queryset),
                )
                % {"n": len(queryset), "code": entry.code, "title": entry.title},
            )
            return None
        suggestions = {d.pk: diagnosis_suggestions(query=d.name, limit=3) for d in queryset[:20]}
        return _action_page(
            self,
            request,
            queryset,
            form=form,
            template="admin/archive/diagnosis/link_code.html",
            title=_("File diagnoses under an ICD-10 code"),
            action="link_to_code",
            rows=[(d, suggestions.get(d.pk, [])) for d in queryset],
        )

    @admin.action(description=gettext_lazy("Merge selected diagnoses into the one with most cases"))
    def merge_into_first(self, request, queryset):
        chosen = list(queryset.order_by("-n_cases", "pk"))
        if len(chosen) < 2:
            self.message_user(request, _("Select at least two diagnoses."), messages.WARNING)
            return
        keep, others = chosen[0], chosen[1:]
        synonyms = set(keep.synonym_list)
        synonyms_cs = set(keep.synonym_list_cs)
        for other in others:
            synonyms.update([other.name, *other.synonym_list])
            synonyms_cs.update([other.name_cs, *other.synonym_list_cs])
            if other.name_cs and not keep.name_cs:
                keep.name_cs = other.name_cs
            if other.icd10 and not keep.icd10:
                keep.icd10 = other.icd10
            for case in Case.objects.filter(diagnosis=other):
                case.diagnosis = keep
                case.save(update_fields=["diagnosis", "updated_at"])
                case_services.case_changed(case)
            other.delete()
        synonyms.discard(keep.name)
        synonyms_cs.discard(keep.name_cs)
        synonyms_cs.discard("")
        keep.synonyms = "\n".join(sorted(synonyms))
        keep.synonyms_cs = "\n".join(sorted(synonyms_cs))
        keep.save(update_fields=["synonyms", "synonyms_cs", "name_cs", "icd10"])
        vocabulary_services.diagnosis_changed(keep.pk)
        self.message_user(
            request,
            ngettext(
                "Merged %(n)d diagnosis into “%(name)s”.",
                "Merged %(n)d diagnoses into “%(name)s”.",
                len(others),
            )
            % {"n": len(others), "name": keep.name},
        )


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]
    list_display = ["name", "case_count"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_cases=Count("cases"))

    @admin.display(description=gettext_lazy("cases"), ordering="n_cases")
    def case_count(self, obj):
        return obj.n_cases


class StudyInline(admin.TabularInline):
    model = Study
    extra = 0
    fields = ["study_uid", "study_date", "description", "pseudonymous_patient_id"]
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


class CaseEventInline(admin.TabularInline):
    """Who deleted, reordered, renamed or captioned the case's images, and when (read-only)."""

    model = CaseEvent
    extra = 0
    fields = ["at", "user", "action", "detail"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = gettext_lazy("Changes to the images")

    def has_add_permission(self, request, obj=None):
        return False


def _action_page(
    modeladmin, request, queryset, *, form, template: str, title: str, action: str, **extra
):
    """An intermediate page for an admin action that needs input (Django's delete pattern);
    ``extra`` goes into the template's context."""
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "queryset": queryset,
        "opts": modeladmin.model._meta,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
        **extra,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, template, context)


#: Case fields the review queue's list never shows.
LONG_TEXTS = (
    "history",
    "findings",
    "differential",
    "discussion",
    "teaching_points",
    "references",
    "review_comment",
)


class CaseChangeList(ChangeList):
    """The review queue's page in two steps: the database sorts and cuts narrow rows (ids and
    the sort keys), then reads the 50 cases of the page with their file counts. In one step,
    PostgreSQL counted files for every row it skipped (page 40: 2,000 rows, three subqueries
    each) and sorted every case joined to its author and diagnosis, long texts and all."""

    def get_results(self, request):
        super().get_results(request)
        ids = list(self.result_list.values_list("pk", flat=True))
        rows = with_file_counts(self.root_queryset.order_by().filter(pk__in=ids))
        # The list shows none of the long texts.
        by_id = {case.pk: case for case in rows.defer(*LONG_TEXTS)}
        self.result_list = [by_id[pk] for pk in ids if pk in by_id]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "status_badge",
        "owner",
        "diagnosis",
        "modality",
        "body_region",
        "image_count",
        "problem_files",
        "quiz_mode",
        "is_demo",
        "updated_at",
    ]
    list_display_links = ["title"]
    # A review queue is read from the top; 50 rows keep a page quick to render (each row is
    # about a millisecond of Django's list rendering) with 10,000 cases.
    list_per_page = 50
    # "N results (M in all)" would count the whole archive again on every filtered page.
    show_full_result_count = False

    class Media:
        css = {"all": ["css/admin-review.css"]}

    list_filter = [
        RevisionFilter, "status", "modality", "body_region", "level", "quiz_mode", "is_normal",
        "is_demo", "tags",
    ]  # fmt: skip
    search_fields = ["title", "diagnosis__name", "findings", "owner__username"]
    autocomplete_fields = ["diagnosis", "tags"]
    inlines = [StudyInline, CaseEventInline]
    actions = [
        "publish",
        "publish_revisions",
        "return_to_author",
        "unpublish",
        "edit_tags",
        "rebuild_search_index",
        "export_package",
    ]
    readonly_fields = [
        "status",
        "owner",
        "created_at",
        "updated_at",
        "published_at",
        "image_previews",
        "upload_problems",
        "revisions_panel",
    ]
    fieldsets = [
        (
            gettext_lazy("Review"),
            {"fields": ["status", "owner", "review_comment", "image_previews", "upload_problems"]},
        ),
        (gettext_lazy("Revisions"), {"fields": ["revisions_panel"]}),
        (gettext_lazy("Case"), {"fields": ["title", "history", "findings"]}),
        (
            gettext_lazy("Diagnosis"),
            {"fields": ["diagnosis", "certainty", "differential"]},
        ),
        (
            gettext_lazy("Teaching"),
            {"fields": ["discussion", "teaching_points", "references"]},
        ),
        (
            gettext_lazy("Classification"),
            {
                "fields": [
                    ("modality", "body_region", "organ_system"),
                    ("level", "age_group", "sex"),
                    "tags",
                    ("quiz_mode", "is_normal", "is_demo"),
                ]
            },
        ),
        (
            gettext_lazy("Dates"),
            {"fields": ["created_at", "updated_at", "published_at"], "classes": ["collapse"]},
        ),
    ]

    # --- review queue ----------------------------------------------------------------------

    def get_queryset(self, request):
        rank = When_(
            *[When(status=s, then=Value(i)) for i, s in enumerate(QUEUE_ORDER)],
            default=Value(len(QUEUE_ORDER)),
            output_field=IntegerField(),
        )
        # Not super(): it orders by get_ordering() before the rank exists. Aliases, not
        # annotations: the database computes them only to sort by them (the image count only
        # when the curator sorts by that column).
        return (
            self.model._default_manager.get_queryset()
            .select_related("owner", "diagnosis")
            .alias(queue_rank=rank, n_images=image_count())
            .order_by(*self.get_ordering(request))
        )

    def get_changelist(self, request, **kwargs):
        return CaseChangeList

    def get_search_results(self, request, queryset, search_term):
        """Words of the title, the findings, the diagnosis or the author's user name, as
        Django's own search over ``search_fields`` finds them (every word somewhere), asked so
        that PostgreSQL reads indexes: the diagnoses and authors matching a word are looked up
        first, so each word is a test on the case's own columns (trigram indexes on title and
        findings, migration 0018) instead of a join filter over every case."""
        if not search_term:
            return queryset, False
        words = []
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            words.append(bit)
        for word in words:
            diagnoses = list(
                Diagnosis.objects.filter(name__icontains=word).values_list("pk", flat=True)
            )
            authors = list(
                get_user_model()
                .objects.filter(username__icontains=word)
                .values_list("pk", flat=True)
            )
            queryset = queryset.filter(
                Q(title__icontains=word)
                | Q(findings__icontains=word)
                | Q(diagnosis_id__in=diagnoses)
                | Q(owner_id__in=authors)
            )
        return queryset, False

    def get_ordering(self, request):
        return ["queue_rank", "-updated_at"]

    def changelist_view(self, request, extra_context=None):
        counts = dict(
            Case.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
        )
        base = reverse("admin:archive_case_changelist")
        status_counts = [
            {
                "status": status,
                "label": Case.Status(status).label,
                "count": counts.get(status, 0),
                "url": f"{base}?{urlencode({'status__exact': status})}",
                "current": request.GET.get("status__exact") == status,
            }
            for status in QUEUE_ORDER
        ]
        quarantined = UploadItem.objects.filter(status=UploadItem.Status.QUARANTINED).count()
        extra = {
            "revisions_count": CaseRevision.objects.filter(
                state=CaseRevision.State.SUBMITTED
            ).count(),
            "revisions_url": f"{base}?{urlencode({'revision': 'submitted'})}",
            "status_counts": status_counts,
            "quarantined_count": quarantined,
            "quarantine_url": reverse("admin:archive_uploaditem_changelist")
            + "?"
            + urlencode({"status__exact": UploadItem.Status.QUARANTINED}),
            # Studies the DICOM listener received but could not file: never silent.
            "unfiled_count": ReceivedStudyFailure.objects.filter(
                status=ReceivedStudyFailure.Status.KEPT
            ).count(),
            "unfiled_url": reverse("admin:archive_receivedstudyfailure_changelist")
            + "?"
            + urlencode({"status__exact": ReceivedStudyFailure.Status.KEPT}),
        }
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def action_checkbox(self, obj):
        """Django's row checkbox, written out: rendering its form widget's template for each
        row took a fifth of the list page's time."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), str(obj)),
        )

    @admin.display(description=gettext_lazy("status"), ordering="queue_rank")
    def status_badge(self, obj):
        return format_html(
            '<span class="ta-status ta-status-{}">{}</span>', obj.status, obj.get_status_display()
        )

    @admin.display(description=gettext_lazy("images"), ordering="n_images")
    def image_count(self, obj):
        return getattr(obj, "n_images", None)

    @admin.display(description=gettext_lazy("rejected / quarantined files"))
    def problem_files(self, obj):
        rejected, quarantined = obj.n_rejected, obj.n_quarantined
        if not rejected and not quarantined:
            return "—"
        return f"{rejected} / {quarantined}"

    # --- change form: what a curator checks -------------------------------------------------

    @admin.display(description=gettext_lazy("anonymized images"))
    def image_previews(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        # The series the viewer above was given (images_and_audit), not read a second time.
        previews = series_previews(obj, series=getattr(obj, "series_shown", None))
        if not previews:
            return _("No anonymized images.")
        return render_to_string(
            "admin/archive/case/_previews.html",
            {"previews": previews, "size": 128, "admin": True},
        )

    @admin.display(description=gettext_lazy("revisions of the published case"))
    def revisions_panel(self, obj):
        """Who changed the published case and when; the revision in progress against what
        students see (text fields and series list, line by line, escaped by the template)."""
        if obj is None or obj.pk is None:
            return "—"
        history = list(obj.revisions.select_related("case", "author", "decided_by"))
        pending = next((r for r in history if r.is_open), None)
        return render_to_string(
            "admin/archive/case/_revisions.html",
            {
                "history": history,
                "pending": pending,
                "diff": revision_services.revision_diff(pending) if pending else [],
            },
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        revisions = list(obj.revisions.select_related("case")) if obj is not None else []
        if all(privacy.can_view_revision(request.user, r) for r in revisions):
            return fieldsets
        # Staff who are not curators: the revisions (drafts) are not theirs to read.
        return [f for f in fieldsets if "revisions_panel" not in f[1]["fields"]]

    @admin.display(description=gettext_lazy("rejected and quarantined files"))
    def upload_problems(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        items = (
            UploadItem.objects.filter(upload__case=obj)
            .exclude(status__in=[UploadItem.Status.ANONYMIZED, UploadItem.Status.DUPLICATE])
            .select_related("upload")
        )
        return render_to_string("admin/archive/case/_upload_problems.html", {"items": items})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context.update(self.images_and_audit(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def images_and_audit(self, request, case: Case) -> dict:
        """The case's images in the case page's viewer, beside the de-identification audit of
        the series on screen (templates/admin/archive/case/_images_audit.html)."""
        series = list(case_series(case=case))
        case.series_shown = series  # for image_previews, rendered with the same object
        audit = deid_audit(series)
        data = None
        # The viewer reads the images over DICOMweb, which asks the privacy policy: staff it
        # would refuse get the audit alone rather than a viewer that cannot load.
        if privacy.can_view_case(request.user, case):
            data = viewer_data(privacy.case_view(request.user, case), series)
            # Key images are marked on the case page; here the curator only reads.
            data = {**data, "canEdit": False, "keyImageUrl": ""}
            index = {s["uid"]: n for n, s in enumerate(data["series"])}
            for group in audit:
                group.viewer_index = index.get(group.series.series_uid)
        return {
            "images_audit": True,
            "case": case,
            "viewer_data": data,
            "has_images": bool(data and any(s["images"] for s in data["series"])),
            "deid_audit": audit,
        }

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        case_services.case_changed(obj)

    # --- actions ----------------------------------------------------------------------------

    def _each_case(self, request, cases, act) -> int:
        """Run ``act(case)`` for each case; a case the rules refuse is named with the reason
        and the others go on. Returns how many succeeded."""
        done = 0
        for case in cases:
            try:
                act(case)
                done += 1
            except revision_services.RevisionConflict as exc:
                message = revision_services.conflict_message(exc.labels)
                self.message_user(request, f"{case}: {message}", messages.ERROR)
            except ValidationError as exc:
                reason = " ".join(_(m) for m in exc.messages)
                self.message_user(request, f"{case}: {reason}", messages.ERROR)
        return done

    @admin.action(description=gettext_lazy("Publish selected cases"), permissions=["publish"])
    def publish(self, request, queryset):
        done = self._each_case(
            request,
            queryset,
            lambda case: case_services.publish_case(case=case, user=request.user),
        )
        self.message_user(
            request,
            # "case(s)": the wording the journey test waits for.
            ngettext("Published %(n)d case(s).", "Published %(n)d case(s).", done) % {"n": done},
        )

    @admin.action(
        description=gettext_lazy("Publish the submitted revisions of selected cases"),
        permissions=["publish"],
    )
    def publish_revisions(self, request, queryset):
        """The revision queue's action. A revision whose fields were also changed directly is
        refused, naming them: the curator returns it or overrides on the case page."""
        submitted = {}
        for case in queryset:
            revision = revision_services.pending_revision(case)
            if revision is not None and revision.state == CaseRevision.State.SUBMITTED:
                submitted[case] = revision
        done = self._each_case(
            request,
            submitted,
            lambda case: revision_services.publish_revision(
                revision=submitted[case], user=request.user
            ),
        )
        self.message_user(
            request,
            ngettext("Published %(n)d revision.", "Published %(n)d revisions.", done) % {"n": done},
        )

    @admin.action(description=gettext_lazy("Unpublish selected cases"), permissions=["publish"])
    def unpublish(self, request, queryset):
        n = 0
        for case in queryset.filter(status=Case.Status.PUBLISHED):
            case_services.unpublish_case(case=case, user=request.user)
            n += 1
        self.message_user(
            request,
            ngettext("Unpublished %(n)d case.", "Unpublished %(n)d cases.", n) % {"n": n},
        )

    @admin.action(
        description=gettext_lazy("Return selected cases to their authors with a comment…"),
        permissions=["publish"],
    )
    def return_to_author(self, request, queryset):
        form = ReturnCaseForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            comment = form.cleaned_data["comment"].strip()
            for case in queryset:
                case_services.return_case(case=case, user=request.user, comment=comment)
            n = queryset.count()
            self.message_user(
                request,
                ngettext(
                    "Returned %(n)d case to its author.",
                    "Returned %(n)d cases to their authors.",
                    n,
                )
                % {"n": n},
            )
            return None
        return _action_page(
            self,
            request,
            queryset,
            form=form,
            template="admin/archive/case/return_form.html",
            title=_("Return cases to their authors"),
            action="return_to_author",
        )

    @admin.action(description=gettext_lazy("Add or remove a tag…"), permissions=["change"])
    def edit_tags(self, request, queryset):
        form = BulkTagForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            name = form.cleaned_data["tag"]
            cases = list(queryset)
            if form.cleaned_data["operation"] == "add":
                tag = tags_from_text(name)[0]
                for case in cases:
                    case.tags.add(tag)
                message = ngettext(
                    "Added the tag “%(tag)s” to %(n)d case.",
                    "Added the tag “%(tag)s” to %(n)d cases.",
                    len(cases),
                )
            else:
                for case in cases:
                    case.tags.remove(*Tag.objects.filter(name__iexact=name))
                message = ngettext(
                    "Removed the tag “%(tag)s” from %(n)d case.",
                    "Removed the tag “%(tag)s” from %(n)d cases.",
                    len(cases),
                )
            for case in cases:
                case_services.case_changed(case)
            self.message_user(request, message % {"tag": name, "n": len(cases)})
            return None
        return _action_page(
            self,
            request,
            queryset,
            form=form,
            template="admin/archive/case/bulk_tags.html",
            title=_("Add or remove a tag"),
            action="edit_tags",
        )

    @admin.action(
        description=gettext_lazy("Export as a case package (published cases)"),
        permissions=["publish"],
    )
    def export_package(self, request, queryset):
        from django.core.exceptions import PermissionDenied
        from django.http import HttpResponse

        from archive.packages.export import export_package, package_name

        cases = list(queryset.select_related("diagnosis", "owner").order_by("pk"))
        try:
            data = export_package(cases, request.user)
        except PermissionDenied:
            self.message_user(
                request,
                _("Only published cases can be exported: unselect drafts and returned cases."),
                messages.ERROR,
            )
            return None
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{package_name(cases)}"'
        return response

    @admin.action(
        description=gettext_lazy("Rebuild the search index (all published cases)"),
        permissions=["publish"],
    )
    def rebuild_search_index(self, request, queryset):
        from django.conf import settings
        from django.core.management import call_command

        out = io.StringIO()
        call_command("search_index", "--rebuild", "--no-progress", stdout=out)
        self.message_user(
            request,
            _("Search index rebuilt on the “%(backend)s” backend: %(output)s")
            % {"backend": settings.SEARCH_BACKEND, "output": out.getvalue().strip()},
        )

    def has_publish_permission(self, request):
        return request.user.has_perm("archive.publish_case")


class UploadItemInline(admin.TabularInline):
    model = UploadItem
    extra = 0
    fields = ["label", "size", "status", "reason", "instance", "quarantine_link"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("quarantined file"))
    def quarantine_link(self, obj):
        return quarantine_link(obj)


def quarantine_link(item: UploadItem) -> str:
    if not item.quarantined_file:
        return "—"
    url = reverse("admin:archive_uploaditem_quarantine", args=[item.pk])
    return format_html('<a href="{}">{}</a>', url, _("download (admins only)"))


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = [
        "public_id",
        "case",
        "uploaded_by",
        "source",
        "status",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "source"]
    inlines = [UploadItemInline]
    readonly_fields = [
        "public_id",
        "case",
        "uploaded_by",
        "source",
        "status",
        "created_at",
        "finished_at",
    ]

    def get_queryset(self, request):
        # An association still open is nobody's yet (an abort deletes it): shown once released.
        return super().get_queryset(request).exclude(status=Upload.Status.RECEIVING)


@admin.register(UploadItem)
class UploadItemAdmin(admin.ModelAdmin):
    """The quarantine list: files that failed verification, for admins only. The files are
    served by ``quarantine_file`` below (admin login + publish permission) and nowhere else."""

    list_display = ["item_label", "case_link", "status", "item_reason", "processed_at", "download"]
    list_display_links = ["item_label"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in UploadItem._meta.fields if f.name != "raw_file"]
    exclude = ["raw_file"]
    list_select_related = ["upload__case"]

    def get_queryset(self, request):
        # Items of an association still open are shown once it is released (see UploadAdmin).
        return super().get_queryset(request).exclude(upload__status=Upload.Status.RECEIVING)

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in {"upload__case__id__exact"} or super().lookup_allowed(
            lookup, value, request
        )

    # Labels and reasons are stored as English msgids (the browser matches the labels):
    # translated where shown, as on the editor.
    @admin.display(description=gettext_lazy("uploaded file"), ordering="pk")
    def item_label(self, obj):
        return obj.shown_label

    @admin.display(description=gettext_lazy("reason"))
    def item_reason(self, obj):
        return _(obj.reason) if obj.reason else ""

    @admin.display(description=gettext_lazy("case"))
    def case_link(self, obj):
        case = obj.upload.case
        url = reverse("admin:archive_case_change", args=[case.pk])
        return format_html('<a href="{}">{}</a>', url, case.title)

    @admin.display(description=gettext_lazy("file"))
    def download(self, obj):
        return quarantine_link(obj)

    def get_urls(self):
        return [
            path(
                "<int:pk>/quarantine/",
                self.admin_site.admin_view(self.quarantine_file),
                name="archive_uploaditem_quarantine",
            ),
            *super().get_urls(),
        ]

    def quarantine_file(self, request, pk: int):
        if not request.user.is_superuser and not request.user.has_perm("archive.publish_case"):
            raise Http404
        item = get_object_or_404(UploadItem, pk=pk)
        if not item.quarantined_file:
            raise Http404
        return FileResponse(
            item.quarantined_file.open("rb"),
            as_attachment=True,
            filename=f"quarantined-{item.pk}.dcm",
        )

    def has_add_permission(self, request):
        return False


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["__str__", "study", "modality", "description"]
    readonly_fields = ["study", "series_uid", "modality", "body_part", "description", "number"]


admin.site.site_header = gettext_lazy("Teaching archive — curation")
admin.site.site_title = gettext_lazy("Teaching archive")
admin.site.index_title = gettext_lazy("Curation")


# --- DICOM nodes (archive/dimse) ---------------------------------------------------------------

from archive.models import KeyObjectImport, RemoteNode  # noqa: E402


@admin.register(RemoteNode)
class RemoteNodeAdmin(admin.ModelAdmin):
    """Calling AE titles the DICOM listener accepts, each sending for one teacher, optionally
    only from pinned peer addresses (validated by the model field)."""

    list_display = [
        "ae_title",
        "teacher",
        "target_case",
        "pinned_addresses",
        "is_active",
        "description",
        "created_at",
    ]
    list_filter = ["is_active"]
    search_fields = ["ae_title", "description", "teacher__username"]
    raw_id_fields = ["teacher", "target_case"]
    fields = ["ae_title", "teacher", "target_case", "allowed_addresses", "description", "is_active"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "target_case":
            # Not CaseAdmin's ordering: it sorts by a review-queue annotation that only its own
            # queryset has, and the node form would fail with a FieldError.
            kwargs["queryset"] = Case.objects.order_by("-updated_at")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=gettext_lazy("allowed peer addresses"))
    def pinned_addresses(self, obj):
        return ", ".join(obj.allowed_addresses.split()) or _("any (AE title only)")


def _is_curator(user) -> bool:
    # Kept studies hold unprocessed PHI: the quarantine's rule (publish permission) applies.
    return user.is_active and user.is_staff and user.has_perm("archive.publish_case")


class _CuratorDownloadMixin:
    """One ``<pk>/download/`` admin URL per model (named ``download_url_name``) that only curators
    reach: what it serves holds unprocessed PHI, so anyone else gets a 404, not a 403."""

    download_url_name: str

    def get_urls(self):
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self._curator_download),
                name=self.download_url_name,
            ),
            *super().get_urls(),
        ]

    def _curator_download(self, request, pk: int):
        if not _is_curator(request.user):
            raise Http404
        return self.curator_download(request, pk)

    def curator_download(self, request, pk: int):
        raise NotImplementedError


@admin.register(ReceivedStudyFailure)
class ReceivedStudyFailureAdmin(_CuratorDownloadMixin, admin.ModelAdmin):
    """Studies the DICOM listener received but could not file (``archive.dimse.filing``): their
    files wait in the quarantine storage; curators retry the filing, download or discard."""

    list_display = [
        "received_at",
        "calling_ae_title",
        "peer_address",
        "node",
        "instance_count",
        "status",
        "reason",
        "attempts",
        "filed_as",
        "download",
    ]
    list_filter = ["status"]
    actions = ["retry_filing", "discard_kept_files"]
    fields = [
        "status",
        "reason",
        "error_type",
        "calling_ae_title",
        "peer_address",
        "node",
        "instance_count",
        "attempts",
        "received_at",
        "resolved_at",
        "filed_as",
        "download",
    ]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return _is_curator(request.user)

    def has_change_permission(self, request, obj=None):
        return _is_curator(request.user)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # "Discard" deletes the files and keeps the record

    @admin.display(description=gettext_lazy("upload"))
    def filed_as(self, obj):
        if obj.upload is None:
            return "—"
        url = reverse("admin:archive_upload_change", args=[obj.upload.pk])
        return format_html('<a href="{}">{}</a>', url, obj.upload.case.title)

    @admin.display(description=gettext_lazy("files"))
    def download(self, obj):
        if obj.status != ReceivedStudyFailure.Status.KEPT or obj.upload_id is not None:
            return "—"
        url = reverse("admin:archive_receivedstudyfailure_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("download (admins only)"))

    download_url_name = "archive_receivedstudyfailure_download"

    def curator_download(self, request, pk: int):
        """The kept instances as a zip with neutral names (the received files, unchanged)."""
        import tempfile
        import zipfile

        from archive.dimse.filing import kept_files

        failure = get_object_or_404(
            ReceivedStudyFailure, pk=pk, status=ReceivedStudyFailure.Status.KEPT
        )
        out = tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
            for number, fh in kept_files(failure):
                with zf.open(f"instance-{number:04d}.dcm", "w", force_zip64=True) as member:
                    while chunk := fh.read(1024 * 1024):
                        member.write(chunk)
        out.seek(0)
        return FileResponse(out, as_attachment=True, filename=f"received-study-{failure.pk}.zip")

    @admin.action(description=gettext_lazy("Retry filing the selected studies"))
    def retry_filing(self, request, queryset):
        from archive.dimse.filing import KeptStudyError, retry_filing

        filed = 0
        for failure in queryset:
            try:
                upload = retry_filing(failure.pk)
            except KeptStudyError as exc:
                self.message_user(request, f"{failure}: {exc}", messages.ERROR)
                continue
            filed += 1
            self.message_user(
                request,
                _("%(study)s: filed into the case “%(case)s”.")
                % {"study": failure, "case": upload.case.title},
            )
        if not filed:
            self.message_user(request, _("No study was filed."), messages.WARNING)

    @admin.action(description=gettext_lazy("Discard the kept files of the selected studies…"))
    def discard_kept_files(self, request, queryset):
        from django import forms

        from archive.dimse.filing import KeptStudyError, discard_kept

        if "apply" not in request.POST:
            return _action_page(
                self,
                request,
                queryset,
                form=forms.Form(),
                template="admin/archive/receivedstudyfailure/discard_confirm.html",
                title=_("Discard received studies"),
                action="discard_kept_files",
            )
        discarded = 0
        for failure in queryset:
            try:
                discard_kept(failure.pk)
            except KeptStudyError as exc:
                self.message_user(request, f"{failure}: {exc}", messages.ERROR)
                continue
            discarded += 1
        self.message_user(
            request,
            ngettext(
                "Discarded the files of %(n)d received study.",
                "Discarded the files of %(n)d received studies.",
                discarded,
            )
            % {"n": discarded},
        )
        return None


@admin.register(KeyObjectImport)
class KeyObjectImportAdmin(admin.ModelAdmin):
    """De-identified teaching-file hints received in Key Object Selection documents."""

    list_display = ["upload", "title", "applied_at"]
    readonly_fields = [f.name for f in KeyObjectImport._meta.fields]

    def has_add_permission(self, request):
        return False


# --- Case packages (issue 14) -------------------------------------------------------------------

from archive.models import PackageImport  # noqa: E402


@admin.register(PackageImport)
class PackageImportAdmin(_CuratorDownloadMixin, admin.ModelAdmin):
    """Imported packages: what became which draft, and quarantined packages with the reason."""

    list_display = ["created_at", "imported_by", "case", "status", "author", "licence"]
    list_filter = ["status"]
    readonly_fields = [
        "public_id",
        "imported_by",
        "case",
        "upload",
        "status",
        "reason",
        "author",
        "licence",
        "key_images",
        "created_at",
        "applied_at",
        "quarantined_package",
    ]
    exclude = ["quarantined_file"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("quarantined package"))
    def quarantined_package(self, obj):
        if not obj.quarantined_file:
            return "—"
        url = reverse("admin:archive_packageimport_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download (curators only)"))

    download_url_name = "archive_packageimport_download"

    def curator_download(self, request, pk: int):
        package = get_object_or_404(PackageImport, pk=pk)
        if not package.quarantined_file:
            raise Http404
        return FileResponse(
            package.quarantined_file.open("rb"),
            as_attachment=True,
            filename=f"quarantined-package-{package.pk}.zip",
        )
