from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "gongzhi.inspections"
    label = "inspections"
    verbose_name = "督查检查考核统筹"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the home-page providers (core.home.PROVIDERS) of the inspections pillar.
        for module in ("home", "visit_home"):
            if find_spec(f"gongzhi.inspections.{module}") is not None:
                import_module(f"gongzhi.inspections.{module}")

    def build_demo(self, *, county: Any, say: Any) -> dict[str, int]:
        """Hook called by core.demo.build_demo_county inside its transaction (core never imports the pillars)."""
        if find_spec("gongzhi.inspections.demo") is None:
            return {}
        from gongzhi.core.imports import system_actor

        demo = import_module("gongzhi.inspections.demo")
        result: dict[str, int] = demo.build(county=county, system=system_actor(), say=say)
        return result
