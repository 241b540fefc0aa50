"""Django admin for P2 (the platform admin). Plans, items and review results are written by the services, which
check the rules (file once, decide pending items only, codes never reused), so here they are read-only; only the
county's rule overrides (InspectionSettings) are edited here, and those edits are audited."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from gongzhi.core.admin import AuditedAdmin

from .models import InspectionItem, InspectionPlan, InspectionSettings, ReviewFlag, ReviewRun


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An issued code must never be freed for reuse, and the ledger counts every filed item.
        return False


@admin.register(InspectionSettings)
class InspectionSettingsAdmin(AuditedAdmin):
    list_display = ("county", "updated_at")
    raw_id_fields = ("county",)


class ItemInline(admin.TabularInline):  # type: ignore[type-arg]
    model = InspectionItem
    fields = ("seq", "kind", "topic", "window_start", "window_end", "mode", "status", "out_of_plan", "code")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(InspectionPlan)
class InspectionPlanAdmin(ReadOnlyAdmin):
    list_display = ("department", "year", "status", "filed_at")
    list_filter = ("year", "status")
    search_fields = ("department__name",)
    list_select_related = ("department",)
    inlines = (ItemInline,)


@admin.register(InspectionItem)
class InspectionItemAdmin(ReadOnlyAdmin):
    list_display = ("topic", "plan", "kind", "mode", "status", "out_of_plan", "code", "code_revoked_at")
    list_filter = ("status", "kind", "mode", "out_of_plan")
    search_fields = ("topic", "code")
    list_select_related = ("plan", "plan__department")


@admin.register(ReviewRun)
class ReviewRunAdmin(ReadOnlyAdmin):
    list_display = ("county", "year", "created_at", "duration_ms")
    list_filter = ("year",)


@admin.register(ReviewFlag)
class ReviewFlagAdmin(ReadOnlyAdmin):
    list_display = ("item", "rule", "code", "score", "township_count", "run")
    list_filter = ("rule",)
    list_select_related = ("item", "run")
