"""Curators work here: review queue, publish / return / unpublish, uploads and quarantine."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from archive.models import Case, Diagnosis, Instance, Series, Study, Tag, Upload, UploadItem
from archive.services import cases as case_services


@admin.register(Diagnosis)
class DiagnosisAdmin(admin.ModelAdmin):
    list_display = ["name", "icd10", "name_cs", "case_count"]
    search_fields = ["name", "icd10", "synonyms", "name_cs"]
    actions = ["merge_into_first"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_cases=Count("cases"))

    @admin.display(description="cases", ordering="n_cases")
    def case_count(self, obj):
        return obj.n_cases

    @admin.action(description="Merge selected diagnoses into the one with most cases")
    def merge_into_first(self, request, queryset):
        chosen = list(queryset.order_by("-n_cases", "pk"))
        if len(chosen) < 2:
            self.message_user(request, "Select at least two diagnoses.", messages.WARNING)
            return
        keep, others = chosen[0], chosen[1:]
        synonyms = set(keep.synonym_list)
        for other in others:
            synonyms.update([other.name, *other.synonym_list])
            for case in Case.objects.filter(diagnosis=other):
                case.diagnosis = keep
                case.save(update_fields=["diagnosis", "updated_at"])
                case_services.case_changed(case)
            other.delete()
        synonyms.discard(keep.name)
        keep.synonyms = "\n".join(sorted(synonyms))
        keep.save(update_fields=["synonyms"])
        self.message_user(request, f"Merged {len(others)} diagnosis(es) into “{keep.name}”.")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class StudyInline(admin.TabularInline):
    model = Study
    extra = 0
    fields = ["study_uid", "study_date", "description", "thumbnails"]
    readonly_fields = fields
    can_delete = False

    @admin.display(description="images")
    def thumbnails(self, obj):
        instances = Instance.objects.filter(series__study=obj, has_pixels=True)[:12]
        return format_html_join(
            "",
            '<img src="{}" alt="image {}" width="96" height="96" style="object-fit:contain;'
            'background:#000;margin:2px">',
            ((reverse("instance-frame", args=[i.pk, 0]) + "?size=96", i.pk) for i in instances),
        )


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "status",
        "owner",
        "diagnosis",
        "modality",
        "body_region",
        "quiz_mode",
        "is_demo",
        "updated_at",
    ]
    list_filter = ["status", "modality", "body_region", "level", "quiz_mode", "is_demo"]
    search_fields = ["title", "diagnosis__name", "findings"]
    autocomplete_fields = ["diagnosis", "tags"]
    inlines = [StudyInline]
    actions = ["publish", "unpublish", "return_to_author", "rebuild_search_index"]
    readonly_fields = ["created_at", "updated_at", "published_at", "deid_audit"]

    @admin.display(description="de-identification audit")
    def deid_audit(self, obj):
        rows = []
        for inst in Instance.objects.filter(series__study__case=obj)[:50]:
            actions: dict[str, int] = {}
            for entry in inst.audit or []:
                actions[entry.get("action", "?")] = actions.get(entry.get("action", "?"), 0) + 1
            summary = ", ".join(f"{k}: {v}" for k, v in sorted(actions.items()))
            rows.append((inst.pk, summary or "—"))
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><td>instance {}</td><td>{}</td></tr>", rows),
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        case_services.case_changed(obj)

    @admin.action(description="Publish selected cases", permissions=["publish"])
    def publish(self, request, queryset):
        done = 0
        for case in queryset:
            try:
                case_services.publish_case(case=case, user=request.user)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{case}: {' '.join(exc.messages)}", messages.ERROR)
        self.message_user(request, f"Published {done} case(s).")

    @admin.action(description="Unpublish selected cases", permissions=["publish"])
    def unpublish(self, request, queryset):
        for case in queryset:
            case_services.unpublish_case(case=case, user=request.user)
        self.message_user(request, f"Unpublished {queryset.count()} case(s).")

    @admin.action(description="Return selected cases to their authors", permissions=["publish"])
    def return_to_author(self, request, queryset):
        for case in queryset:
            case_services.unpublish_case(
                case=case,
                user=request.user,
                comment=case.review_comment or "Please revise this case (see curator's notes).",
            )
        self.message_user(request, f"Returned {queryset.count()} case(s).")

    @admin.action(
        description="Rebuild the search index (all published cases)", permissions=["publish"]
    )
    def rebuild_search_index(self, request, queryset):
        from django.core.management import call_command

        call_command("search_index", "--rebuild")
        self.message_user(request, "Search index rebuilt.")

    def has_publish_permission(self, request):
        return request.user.has_perm("archive.publish_case")


class UploadItemInline(admin.TabularInline):
    model = UploadItem
    extra = 0
    fields = ["label", "size", "status", "reason", "instance", "quarantine_link"]
    readonly_fields = fields
    can_delete = False

    @admin.display(description="quarantined file")
    def quarantine_link(self, obj):
        if not obj.quarantined_file:
            return "—"
        url = reverse("admin:archive_uploaditem_quarantine", args=[obj.pk])
        return format_html('<a href="{}">download (admins only)</a>', url)


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


@admin.register(UploadItem)
class UploadItemAdmin(admin.ModelAdmin):
    """The quarantine list: files that failed verification, for admins only."""

    list_display = ["label", "upload", "status", "reason", "processed_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in UploadItem._meta.fields]

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


admin.site.register(Series)
admin.site.site_header = "Teaching archive — curation"


# --- DICOM nodes (archive/dimse) ---------------------------------------------------------------

from archive.models import KeyObjectImport, RemoteNode  # noqa: E402


@admin.register(RemoteNode)
class RemoteNodeAdmin(admin.ModelAdmin):
    """Calling AE titles the DICOM listener accepts, each sending for one teacher."""

    list_display = ["ae_title", "teacher", "target_case", "is_active", "description", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["ae_title", "description", "teacher__username"]
    raw_id_fields = ["teacher", "target_case"]


@admin.register(KeyObjectImport)
class KeyObjectImportAdmin(admin.ModelAdmin):
    """De-identified teaching-file hints received in Key Object Selection documents."""

    list_display = ["upload", "title", "applied_at"]
    readonly_fields = [f.name for f in KeyObjectImport._meta.fields]

    def has_add_permission(self, request):
        return False
