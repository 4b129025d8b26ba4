"""The teaching models in the admin, for curators who need to look (read-mostly: teachers run
their collections and classes on the site)."""

from __future__ import annotations

from django.contrib import admin

from teaching.models import Assignment, Collection, CollectionEntry, TeachingClass


class EntryInline(admin.TabularInline):
    model = CollectionEntry
    extra = 0
    fields = ["position", "case", "show_as_unknown", "note"]
    raw_id_fields = ["case"]


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "visibility", "updated_at"]
    list_filter = ["visibility"]
    search_fields = ["title", "owner__username"]
    raw_id_fields = ["owner"]
    filter_horizontal = ["shared_with"]
    inlines = [EntryInline]


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    fields = ["title", "collection", "opens_at", "due_at"]
    raw_id_fields = ["collection"]


@admin.register(TeachingClass)
class TeachingClassAdmin(admin.ModelAdmin):
    list_display = ["name", "join_code", "created_at"]
    search_fields = ["name", "join_code"]
    readonly_fields = ["join_code"]
    filter_horizontal = ["teachers"]
    inlines = [AssignmentInline]
