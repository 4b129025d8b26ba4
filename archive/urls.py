from django.urls import path

from archive.views import case_page, cases, images

urlpatterns = [
    path("", cases.home, name="home"),
    path("my/cases/", cases.my_cases, name="my-cases"),
    path("cases/new/", cases.case_create, name="case-create"),
    path("cases/<int:pk>/", case_page.case_detail, name="case-detail"),
    path("cases/<int:pk>/edit/", cases.case_edit, name="case-edit"),
    path("cases/<int:pk>/upload/", cases.case_upload, name="case-upload"),
    path("cases/<int:pk>/submit/", cases.case_submit, name="case-submit"),
    path("api/diagnoses", cases.api_diagnoses, name="api-diagnoses"),
    path("uploads/<uuid:public_id>/status", cases.upload_status, name="upload-status"),
    path("instances/<int:pk>/frames/<int:frame>.png", images.instance_frame, name="instance-frame"),
    path("instances/<int:pk>/download", images.instance_download, name="instance-download"),
]

from archive.views import quiz  # noqa: E402

# Student side of issue 6: viewer extras, key images, quiz, progress, study download.
urlpatterns += [
    path("cases/<int:pk>/download.zip", images.case_download, name="case-download"),
    path("cases/<int:pk>/key-images/", case_page.key_image_create, name="case-key-images"),
    path(
        "cases/<int:pk>/key-images/<int:key_pk>/delete",
        case_page.key_image_delete,
        name="case-key-image-delete",
    ),
    path("cases/<int:pk>/quiz/answer", quiz.quiz_answer, name="quiz-answer"),
    path("cases/<int:pk>/quiz/choices/", quiz.quiz_choices, name="quiz-choices"),
    path("my/progress/", quiz.my_progress, name="my-progress"),
    path(
        "instances/<int:pk>/frames/<int:frame>/window.json",
        images.instance_window,
        name="instance-window",
    ),
]

# Teacher review of the pixel redaction (issue 4): boxes drawn on a series, applied from the
# kept originals until the review is finished.
urlpatterns += [
    path(
        "series/<int:pk>/redaction-boxes/",
        cases.series_redaction_box_add,
        name="series-redaction-boxes",
    ),
    path(
        "series/<int:pk>/redaction-boxes/<int:box_pk>/delete",
        cases.series_redaction_box_delete,
        name="series-redaction-box-delete",
    ),
    path(
        "series/<int:pk>/redaction.json",
        cases.series_redaction_status,
        name="series-redaction-status",
    ),
    path("series/<int:pk>/preview", cases.series_preview_fragment, name="series-preview"),
    path("series/<int:pk>/review/", cases.series_review_page, name="series-review"),
    path("cases/<int:pk>/finish-review", cases.case_finish_review, name="case-finish-review"),
]

from archive.views import packages  # noqa: E402

# Case packages between archives (issue 14).
urlpatterns += [
    path("cases/<int:pk>/package.zip", packages.case_package, name="case-package"),
    path("cases/import/", packages.package_import, name="package-import"),
]

from archive.views import comments, curation, series_control  # noqa: E402

# Authoring and curation (issue 16): one-click curation on the case page.
urlpatterns += [
    path("cases/<int:pk>/curation", curation.case_curate, name="case-curate"),
    path("series/<int:pk>/manage", series_control.series_manage, name="series-manage"),
    path("series/<int:pk>/images/", series_control.series_images, name="series-images"),
    path("instances/<int:pk>/manage", series_control.instance_manage, name="instance-manage"),
    path("cases/<int:pk>/comments/", comments.case_comment, name="case-comments"),
]

from archive.views import revisions  # noqa: E402

# Revisions of published cases (issue 16): the author's editor, submit/withdraw; the curator's
# publish/return on the case page.
urlpatterns += [
    path("cases/<int:pk>/revision/", revisions.case_revise, name="case-revise"),
    path("cases/<int:pk>/revision/submit", revisions.revision_submit, name="case-revision-submit"),
    path(
        "cases/<int:pk>/revision/curation",
        revisions.revision_curate,
        name="case-revision-curate",
    ),
]
