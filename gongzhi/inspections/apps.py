from typing import Any

from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "gongzhi.inspections"
    label = "inspections"
    verbose_name = "督查检查考核统筹"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the home-page providers (core.home.PROVIDERS) of the inspections pillar.
        from . import home, visit_home  # noqa: F401

    def build_demo(self, *, county: Any, say: Any) -> dict[str, int]:
        """Hook called by core.demo.build_demo_county inside its transaction (core never imports the pillars)."""
        from gongzhi.core.imports import system_actor

        from .demo import build

        return build(county=county, system=system_actor(), say=say)
