"""The JSON API under /api/v1 (django-ninja). OpenAPI at /api/docs.

Errors are always ``{"code", "message", "detail"}`` with the message in Chinese.
"""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from gongzhi.core.auth import user_for_token
from gongzhi.core.errors import ServiceError


class TokenAuth(HttpBearer):
    """``Authorization: Bearer gz_...`` — per-user, revocable API tokens."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session cookie, with CSRF on unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


api = NinjaAPI(
    title="共治 Gongzhi API",
    version="1",
    description="基层共治平台接口。浏览器使用会话登录；系统对接使用个人 API 令牌（Authorization: Bearer …）。",
    urls_namespace="api",
    docs_url="/docs",
    auth=[TokenAuth(), SessionAuth(csrf=True)],
)


def _error(request: HttpRequest, status: int, code: str, message: str, detail: Any = None) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, "detail": detail}, status=status)


@api.exception_handler(ServiceError)
def _service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message, exc.detail)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, 422, "invalid", "请求参数不正确", exc.errors)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", "请先登录或提供有效的 API 令牌")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "对象不存在或无权查看")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    messages = {403: ("permission_denied", "没有权限执行此操作"), 404: ("not_found", "对象不存在或无权查看")}
    code, message = messages.get(exc.status_code, ("error", str(exc.message)))
    return _error(
        request, exc.status_code, code, message, str(exc.message) if exc.status_code not in messages else None
    )


def _register_routers() -> None:
    from gongzhi.core.api import router as core_router
    from gongzhi.duties.api import router as duties_router
    from gongzhi.duties.api import task_router
    from gongzhi.duties.summons_api import router as summons_router
    from gongzhi.inspections.plan_api import router as inspections_router
    from gongzhi.inspections.visit_api import burden_router, catalog_router, visits_router

    api.add_router("/", core_router)
    api.add_router("/summons", summons_router)
    api.add_router("/duties", duties_router)
    api.add_router("/tasks", task_router)
    api.add_router("/catalog", catalog_router)
    api.add_router("/inspections", inspections_router)
    api.add_router("/visits", visits_router)
    api.add_router("/burden", burden_router)


_register_routers()
