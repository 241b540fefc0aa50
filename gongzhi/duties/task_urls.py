from django.urls import path

from . import task_views as v

app_name = "tasks"

urlpatterns = [
    path("", v.task_list_view, name="list"),
    path("new/", v.task_send_view, name="send"),
    path("preview/", v.task_preview_view, name="preview"),
    path("cited-items/", v.cited_items_view, name="cited-items"),
    path("<int:task_id>/", v.task_detail_view, name="detail"),
    path("<int:task_id>/decide/", v.task_decide_view, name="decide"),
    path("<int:task_id>/contest/", v.task_contest_view, name="contest"),
    path("<int:task_id>/contest/decide/", v.contest_decide_view, name="contest-decide"),
]
