from django.urls import path

from . import views

urlpatterns = [
    path("search/", views.search_page, name="search"),
    path("api/search", views.api_search, name="api-search"),
    path("api/autocomplete", views.api_autocomplete, name="api-autocomplete"),
]
