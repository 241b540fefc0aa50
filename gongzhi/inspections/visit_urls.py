from django.urls import path

from . import visit_views as views

app_name = "visits"

urlpatterns = [
    path("", views.calendar_view, name="calendar"),
    path("merge/", views.merge_view, name="merge"),
    path("<int:visit_id>/", views.detail_view, name="detail"),
    path("<int:visit_id>/findings/", views.findings_view, name="findings"),
    path("findings/<int:finding_id>/close/", views.finding_close_view, name="finding-close"),
]
