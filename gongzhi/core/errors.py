"""Errors raised by services; the API turns them into ``{code, message, detail}``, the UI into a message."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 400

    def __init__(self, code: str, message: str, detail: Any = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


class PermissionDeniedError(ServiceError):
    status = 403

    def __init__(self, message: str = "没有权限执行此操作", detail: Any = None):
        super().__init__("permission_denied", message, detail)


class NotFoundError(ServiceError):
    status = 404

    def __init__(self, message: str = "对象不存在或无权查看", detail: Any = None):
        super().__init__("not_found", message, detail)


def authenticated_user(request: Any) -> Any:
    """The logged-in ``core.User`` of a request (typed), or PermissionDeniedError for anonymous requests."""
    from .models import User

    user = getattr(request, "user", None)
    if not isinstance(user, User):
        raise PermissionDeniedError("请先登录")
    return user
