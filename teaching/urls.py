from django.urls import path

from teaching.views import answers, classes, collections, conference, lesion, results, review

app_name = "teaching"

urlpatterns = [
    # Collections
    path("collections/", collections.collection_list, name="collection-list"),
    path("collections/new", collections.collection_create, name="collection-create"),
    path("collections/<int:pk>/", collections.collection_detail, name="collection-detail"),
    path("collections/<int:pk>/edit", collections.collection_edit, name="collection-edit"),
    path("collections/<int:pk>/entries/add", collections.entry_add, name="entry-add"),
    path(
        "collections/<int:pk>/entries/<int:entry_pk>/edit",
        collections.entry_edit,
        name="entry-edit",
    ),
    path(
        "collections/<int:pk>/entries/<int:entry_pk>/remove",
        collections.entry_remove,
        name="entry-remove",
    ),
    path(
        "collections/<int:pk>/entries/<int:entry_pk>/move",
        collections.entry_move,
        name="entry-move",
    ),
    path("collections/<int:pk>/reorder", collections.collection_reorder, name="collection-reorder"),
    path(
        "collections/<int:pk>/duplicate",
        collections.collection_duplicate,
        name="collection-duplicate",
    ),
    path("collections/<int:pk>/delete", collections.collection_delete, name="collection-delete"),
    path("cases/<int:pk>/collect", collections.case_collect, name="case-collect"),
    # An entry shown as unknown, answered by whoever may see the collection.
    path(
        "collections/<int:pk>/entries/<int:entry_pk>/",
        answers.entry_study,
        name="entry-study",
    ),
    # Conference mode and the PowerPoint export (teachers)
    path("collections/<int:pk>/present/", conference.present, name="collection-present"),
    path(
        "collections/<int:pk>/present/<int:entry_pk>/reveal",
        conference.reveal,
        name="collection-reveal",
    ),
    path("collections/<int:pk>/export.pptx", conference.export_pptx, name="collection-export"),
    path(
        "collections/<int:pk>/package.zip",
        conference.export_package_view,
        name="collection-package",
    ),
    # The lesion's region on a key image (click the lesion)
    path("cases/<int:pk>/lesion/", lesion.lesion_editor, name="lesion-editor"),
    path("cases/<int:pk>/lesion/save", lesion.lesion_save, name="lesion-save"),
    # Classes and assignments
    path("classes/", classes.class_list, name="class-list"),
    path("classes/new", classes.class_create, name="class-create"),
    path("classes/<int:pk>/", classes.class_detail, name="class-detail"),
    path("classes/<int:pk>/invite", classes.class_invite, name="class-invite"),
    path(
        "classes/<int:pk>/students/<int:user_pk>/remove",
        classes.class_remove_student,
        name="class-remove-student",
    ),
    path("classes/<int:pk>/assign", classes.assignment_create, name="assignment-create"),
    path("join/", classes.class_join, name="class-join"),
    path("assignments/<int:pk>/", classes.assignment_detail, name="assignment-detail"),
    path(
        "assignments/<int:pk>/cases/<int:position>/",
        answers.assignment_case,
        name="assignment-case",
    ),
    path("attempts/<int:pk>/", answers.attempt_result, name="attempt-result"),
    # Results for teachers
    path("assignments/<int:pk>/results/", results.assignment_results, name="assignment-results"),
    path(
        "assignments/<int:pk>/results.csv",
        results.assignment_results_csv,
        name="assignment-results-csv",
    ),
    path(
        "classes/<int:pk>/students/<int:user_pk>/",
        results.student_progress,
        name="student-progress",
    ),
    # Spaced repetition, bookmarks
    path("review/", review.review_queue, name="review-queue"),
    path("review/next", review.review_next, name="review-next"),
    path("review/cases/<int:pk>/", answers.review_case, name="review-case"),
    path("bookmarks/", review.bookmarks, name="bookmarks"),
    path("cases/<int:pk>/bookmark", review.bookmark_toggle, name="bookmark-toggle"),
]
