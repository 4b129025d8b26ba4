"""DICOMweb routes under ``/dicomweb/`` (PS3.18 studies/series/instances resources)."""

from django.urls import path

from archive.dicomweb import views

app_name = "dicomweb"

S = "studies/<str:study_uid>"
SE = f"{S}/series/<str:series_uid>"
I = f"{SE}/instances/<str:sop_uid>"  # noqa: E741
F = f"{I}/frames/<str:frame_list>"

urlpatterns = [
    # QIDO-RS at every level, top level included (PS3.18 10.6).
    path("studies", views.studies_root, name="studies"),
    path("series", views.search_series, name="all-series"),
    path("instances", views.search_instances, name="all-instances"),
    path(S, views.study_root, name="study"),
    path(f"{S}/metadata", views.study_metadata, name="study-metadata"),
    path(f"{S}/rendered", views.rendered_study, name="study-rendered"),
    path(f"{S}/thumbnail", views.thumbnail_study, name="study-thumbnail"),
    path(f"{S}/series", views.search_series, name="study-series"),
    path(f"{S}/instances", views.search_instances, name="study-instances"),
    path(SE, views.retrieve_series, name="series"),
    path(f"{SE}/metadata", views.series_metadata, name="series-metadata"),
    path(f"{SE}/rendered", views.rendered_series, name="series-rendered"),
    path(f"{SE}/thumbnail", views.thumbnail_series, name="series-thumbnail"),
    path(f"{SE}/instances", views.search_instances, name="series-instances"),
    path(I, views.retrieve_instance, name="instance"),
    path(f"{I}/metadata", views.instance_metadata, name="instance-metadata"),
    path(f"{I}/rendered", views.rendered_instance, name="instance-rendered"),
    path(f"{I}/thumbnail", views.thumbnail_instance, name="instance-thumbnail"),
    path(f"{I}/bulkdata/<str:tag>", views.bulkdata, name="bulkdata"),
    path(F, views.frames, name="frames"),
    path(f"{F}/rendered", views.rendered_frame, name="rendered-frame"),
    path(f"{F}/thumbnail", views.thumbnail_frame, name="frame-thumbnail"),
]
