from typing import Any

from django.apps import AppConfig


class DutiesConfig(AppConfig):
    name = "gongzhi.duties"
    label = "duties"
    verbose_name = "履职事项与任务准入"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the home-page providers (core.home.PROVIDERS) of the duties pillar.
        from . import home, summons  # noqa: F401

    def build_demo(self, *, county: Any, say: Any) -> dict[str, int]:
        """Hook called by core.demo.build_demo_county inside its transaction (core never imports the pillars)."""
        from gongzhi.core.imports import system_actor
        from gongzhi.core.models import User

        from .demo import build

        return build(
            county=county,
            system=system_actor(),
            leader=User.objects.get(username="leader"),
            staff=User.objects.get(username="staff"),
            say=say,
        )
