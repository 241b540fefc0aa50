from django.apps import AppConfig


class DutiesConfig(AppConfig):
    name = "gongzhi.duties"
    label = "duties"
    verbose_name = "履职事项与任务准入"
    default_auto_field = "django.db.models.BigAutoField"
