"""URLs of annual plans, items, the review and decisions (namespace ``plans``), and the public code check
(``verify_urlpatterns``, namespace ``verify``, mounted at /v/ so the QR code stays short)."""

from django.urls import path

from . import plan_views as v

app_name = "plans"

urlpatterns = [
    path("", v.plan_list_view, name="list"),
    path("new/", v.plan_create_view, name="create"),
    path("import/", v.import_view, name="import"),
    path("export.xlsx", v.export_view, name="export"),
    path("template.xlsx", v.template_view, name="template"),
    path("review/", v.review_view, name="review"),
    path("review/run/", v.review_run_view, name="review-run"),
    path("decisions/", v.decisions_view, name="decisions"),
    path("decisions/approve-clean/", v.approve_clean_view, name="approve-clean"),
    path("<int:plan_id>/", v.plan_detail_view, name="detail"),
    path("<int:plan_id>/file/", v.plan_file_view, name="file"),
    path("<int:plan_id>/items/new/", v.item_create_view, name="item-create"),
    path("items/<int:item_id>/", v.item_detail_view, name="item"),
    path("items/<int:item_id>/edit/", v.item_edit_view, name="item-edit"),
    path("items/<int:item_id>/delete/", v.item_delete_view, name="item-delete"),
    path("items/<int:item_id>/decide/", v.item_decide_view, name="item-decide"),
    path("items/<int:item_id>/revoke/", v.item_revoke_view, name="item-revoke"),
    path("items/<int:item_id>/slip/", v.item_slip_view, name="item-slip"),
]

verify_urlpatterns = (
    [
        path("", v.verify_view, name="form"),
        path("<str:item_code>/", v.verify_view, name="code"),
    ],
    "verify",
)
