from django.urls import path

from archive import views

urlpatterns = [
    path("", views.home, name="home"),
    path("my/cases/", views.my_cases, name="my-cases"),
    path("cases/new/", views.case_create, name="case-create"),
    path("cases/<int:pk>/", views.case_detail, name="case-detail"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case-edit"),
    path("cases/<int:pk>/upload/", views.case_upload, name="case-upload"),
    path("cases/<int:pk>/submit/", views.case_submit, name="case-submit"),
    path("uploads/<uuid:public_id>/status", views.upload_status, name="upload-status"),
    path("instances/<int:pk>/frames/<int:frame>.png", views.instance_frame, name="instance-frame"),
    path("instances/<int:pk>/download", views.instance_download, name="instance-download"),
]
