"""Django admin for the platform admin. Audit events are read-only here: the chain is append-only."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from .audit import audit_record
from .models import (
    AdminUnit,
    ApiToken,
    AuditEvent,
    Cadre,
    Department,
    Organization,
    Position,
    Representative,
    Resident,
    User,
)


class AuditedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Django admin edits bypass the services, so they write their audit event here, inside the admin's own
    transaction. Only the names of changed fields are recorded (never values such as password hashes)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="admin.change" if change else "admin.add",
            object_type=obj._meta.model_name,
            object_id=obj.pk,
            data={"fields": sorted(form.changed_data)},
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.has_changed():
            audit_record(
                actor=request.user,
                action="admin.change_related",
                object_type=formset.model._meta.model_name,
                object_id=form.instance.pk,
                data={"parent": form.instance._meta.model_name},
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            actor=request.user, action="admin.delete", object_type=obj._meta.model_name, object_id=obj.pk
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            audit_record(
                actor=request.user, action="admin.delete", object_type=obj._meta.model_name, object_id=obj.pk
            )
        super().delete_queryset(request, queryset)


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    list_display = ("username", "display_name", "phone", "is_active", "is_superuser", "locked_until")
    search_fields = ("username", "display_name", "phone")
    readonly_fields = ("failed_logins", "locked_until")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("共治", {"fields": ("display_name", "phone", "failed_logins", "locked_until")}),
    )  # type: ignore[misc]


@admin.register(AdminUnit)
class AdminUnitAdmin(AuditedAdmin):
    list_display = ("code", "name", "level", "kind", "parent")
    list_filter = ("level", "kind")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
    list_select_related = ("parent",)


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    list_display = ("name", "kind", "county", "active")
    list_filter = ("kind", "active")
    search_fields = ("name",)
    list_select_related = ("county",)


class PositionInline(admin.TabularInline):
    model = Position
    raw_id_fields = ("unit", "department")
    extra = 0


@admin.register(Cadre)
class CadreAdmin(AuditedAdmin):
    list_display = ("name", "user", "active")
    search_fields = ("name", "user__username")
    inlines = [PositionInline]
    raw_id_fields = ("user",)
    list_select_related = ("user",)


@admin.register(Resident)
class ResidentAdmin(AuditedAdmin):
    list_display = ("name", "village", "household_no", "verified")
    list_filter = ("verified",)
    search_fields = ("name", "household_no")
    raw_id_fields = ("village", "user")
    exclude = ("id_hash",)
    list_select_related = ("village",)


class RepresentativeInline(admin.TabularInline):
    model = Representative
    raw_id_fields = ("user",)
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    list_display = ("name", "kind", "credit_code", "unit")
    search_fields = ("name", "credit_code")
    raw_id_fields = ("unit",)
    inlines = [RepresentativeInline]


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    list_display = ("name", "user", "prefix", "created_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "key_hash", "created_at")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("seq", "time", "actor_label", "action", "object_type", "object_id")
    list_filter = ("action",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
