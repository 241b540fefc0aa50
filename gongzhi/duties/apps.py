from django.apps import AppConfig


class DutiesConfig(AppConfig):
    name = "gongzhi.duties"
    label = "duties"
    verbose_name = "履职事项与任务准入"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the home-page providers (core.home.PROVIDERS) of the duties pillar.
        from . import home, summons  # noqa: F401
