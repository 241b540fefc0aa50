from typing import Any

from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "gongzhi.inspections"
    label = "inspections"
    verbose_name = "督查检查考核统筹"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the home-page providers (core.home.PROVIDERS) of the inspections pillar, when present.
        from importlib import import_module
        from importlib.util import find_spec

        if find_spec("gongzhi.inspections.home") is not None:
            import_module("gongzhi.inspections.home")

    def build_demo(self, *, county: Any, say: Any) -> dict[str, int]:
        """Hook called by core.demo.build_demo_county inside its transaction (core never imports the pillars)."""
        from importlib.util import find_spec

        if find_spec("gongzhi.inspections.demo") is None:
            return {}
        from gongzhi.core.imports import system_actor

        from .demo import build  # type: ignore[import-not-found,unused-ignore]

        result: dict[str, int] = build(county=county, system=system_actor(), say=say)
        return result
