from django.urls import path

from . import catalog_views as views

app_name = "catalog"

urlpatterns = [
    path("", views.catalog_view, name="list"),
    path("new/", views.new_view, name="new"),
    path("<int:entry_id>/", views.detail_view, name="detail"),
    path("<int:entry_id>/submit/", views.submit_view, name="submit"),
    path("<int:entry_id>/subscribe/", views.subscribe_view, name="subscribe"),
    path("<int:entry_id>/active/", views.active_view, name="active"),
    path("<int:entry_id>/values.xlsx", views.values_xlsx_view, name="values-xlsx"),
]
