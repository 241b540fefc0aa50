from django.urls import path

from . import summons_views as views

app_name = "summons"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("new/", views.new_view, name="new"),
    path("new/departments/", views.new_departments_view, name="new-departments"),
    path("settings/", views.settings_view, name="settings"),
    path("<int:summons_id>/", views.detail_view, name="detail"),
    path("<int:summons_id>/issue/", views.issue_view, name="issue"),
    path("<int:summons_id>/discard/", views.discard_view, name="discard"),
    path("<int:summons_id>/close/", views.close_view, name="close"),
    path("<int:summons_id>/targets/<int:target_id>/ack/", views.ack_view, name="ack"),
    path("<int:summons_id>/targets/<int:target_id>/report/", views.report_view, name="report"),
    path("<int:summons_id>/targets/<int:target_id>/rate/", views.rate_view, name="rate"),
]
