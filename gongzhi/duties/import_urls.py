from django.urls import path

from . import import_views as v

app_name = "duties_io"

urlpatterns = [
    path("import/", v.import_view, name="import"),
    path("import/confirm/<str:token>/", v.confirm_view, name="confirm"),
    path("export/<int:duty_list_id>.xlsx", v.export_view, name="export"),
    path("template.xlsx", v.template_view, name="template"),
]
