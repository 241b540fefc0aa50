"""Import/export pages. (Being built: see gongzhi/core/imports.py.)"""

from django.http import HttpRequest, HttpResponse


def import_view(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def export_view(request: HttpRequest, kind: str) -> HttpResponse:
    raise NotImplementedError


def template_view(request: HttpRequest, kind: str) -> HttpResponse:
    raise NotImplementedError
