"""DICOMweb routes under ``/dicomweb/`` (PS3.18 studies/series/instances resources)."""

from django.urls import path

from archive.dicomweb import views

app_name = "dicomweb"

S = "studies/<str:study_uid>"
SE = f"{S}/series/<str:series_uid>"
I = f"{SE}/instances/<str:sop_uid>"  # noqa: E741

urlpatterns = [
    path("studies", views.studies_root, name="studies"),
    path(S, views.study_root, name="study"),
    path(f"{S}/metadata", views.study_metadata, name="study-metadata"),
    path(f"{S}/series", views.search_series, name="study-series"),
    path(SE, views.retrieve_series, name="series"),
    path(f"{SE}/metadata", views.series_metadata, name="series-metadata"),
    path(f"{SE}/instances", views.search_instances, name="series-instances"),
    path(I, views.retrieve_instance, name="instance"),
    path(f"{I}/metadata", views.instance_metadata, name="instance-metadata"),
    path(f"{I}/bulkdata/<str:tag>", views.bulkdata, name="bulkdata"),
    path(f"{I}/frames/<int:frame>/rendered", views.rendered_frame, name="rendered-frame"),
]
