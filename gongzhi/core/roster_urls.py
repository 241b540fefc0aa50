from django.urls import path

from . import roster_views

app_name = "roster"

urlpatterns = [
    path("", roster_views.import_view, name="import"),
    path("export/<str:kind>.xlsx", roster_views.export_view, name="export"),
    path("template/<str:kind>.xlsx", roster_views.template_view, name="template"),
]
