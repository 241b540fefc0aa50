from django.urls import path

from . import list_views as v

app_name = "duties"

urlpatterns = [
    path("", v.list_index_view, name="lists"),
    path("lists/<int:list_id>/", v.list_detail_view, name="list-detail"),
    path("townships/<int:unit_id>/current/", v.township_current_view, name="township-current"),
    path("lists/<int:list_id>/diff/<int:other_id>/", v.list_diff_view, name="list-diff"),
    path("lists/<int:list_id>/adjust/", v.adjustment_new_view, name="adjust"),
    path("lists/<int:template_id>/derive/", v.derive_view, name="derive"),
    path("adjustments/", v.adjustment_list_view, name="adjustments"),
    path("adjustments/<int:adj_id>/", v.adjustment_detail_view, name="adjustment"),
    path("adjustments/<int:adj_id>/decide/", v.adjustment_decide_view, name="adjustment-decide"),
    path("reports/", v.report_view, name="reports"),
    path("reports.xlsx", v.report_xlsx_view, name="reports-xlsx"),
]
