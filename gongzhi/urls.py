from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from gongzhi.api import api
from gongzhi.inspections.plan_urls import verify_urlpatterns

admin.site.site_header = "共治 Gongzhi 平台管理"
admin.site.site_title = "共治 Gongzhi"

urlpatterns = [
    path("", include("gongzhi.core.urls")),
    path("roster/", include("gongzhi.core.roster_urls")),
    path("duties/io/", include("gongzhi.duties.import_urls")),
    path("duties/", include("gongzhi.duties.urls")),
    path("tasks/", include("gongzhi.duties.task_urls")),
    path("summons/", include("gongzhi.duties.summons_urls")),
    path("catalog/", include("gongzhi.inspections.catalog_urls")),
    path("inspections/", include("gongzhi.inspections.plan_urls")),
    path("v/", include(verify_urlpatterns)),  # public: the 一事一码 check a QR code opens
    path("visits/", include("gongzhi.inspections.visit_urls")),
    path("burden/", include("gongzhi.inspections.ledger_views")),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

if settings.BENCH_VIEWS:
    from gongzhi.core.views import bench_bare

    urlpatterns.append(path("bench/bare", bench_bare, name="bench-bare"))
