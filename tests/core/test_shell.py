"""The cached page shell (core/shell.py): same HTML as base.html through the template engine, never shared per-user
data, and a loud failure when base.html reads per-user data the shell has no slot for."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.template import engines
from django.test import Client, RequestFactory, override_settings
from django.utils import translation

from gongzhi.core import shell
from gongzhi.core.models import User

TOKEN = re.compile(r'(X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[A-Za-z0-9]{64}')


def _request(user: User, path: str = "/?a=1&b=<x>") -> Any:
    request = RequestFactory().get(path)
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _same(a: str, b: str) -> bool:
    return TOKEN.sub(r"\1TOKEN", a) == TOKEN.sub(r"\1TOKEN", b)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
@pytest.mark.parametrize("role", ["township_leader", "admin", "resident", "department_staff"])
def test_shell_renders_exactly_what_base_html_renders(users: dict[str, User], role: str, lang: str) -> None:
    user = users[role]
    title, content = "标题 <&>", "<p>正文</p>"
    with translation.override(lang):
        expected_request = _request(user)
        messages.success(expected_request, "已保存 <b>")
        messages.warning(expected_request, "请注意")
        template = engines["django"].from_string(
            '{% extends "base.html" %}{% block title %}'
            + title.replace("<&>", "&lt;&amp;&gt;")
            + "{% endblock %}"
            "{% block content %}" + content + "{% endblock %}"
        )
        expected = template.render({}, request=expected_request)
        request = _request(user)
        messages.success(request, "已保存 <b>")
        messages.warning(request, "请注意")
        got = shell.render_in_shell(request, title=title, content=content).content.decode()
    assert _same(got, expected)
    assert "已保存 &lt;b&gt;" in got and 'name="next" type="hidden" value="/?a=1&amp;b=' in got
    # The messages were shown, so the middleware drops them, as after a template render.
    assert messages.get_messages(request).used


def test_each_user_gets_their_own_name_and_roles(users: dict[str, User]) -> None:
    leader, staff = users["township_leader"], users["township_staff"]
    User.objects.filter(pk=staff.pk).update(display_name="<script>王</script>")
    a, b = Client(), Client()
    a.force_login(leader)
    b.force_login(User.objects.get(pk=staff.pk))
    for _ in range(2):  # the second round comes from the shell cache
        page_a = a.get("/").content.decode()
        page_b = b.get("/").content.decode()
        assert str(leader) in page_a and "王" not in page_a
        assert "&lt;script&gt;王&lt;/script&gt;" in page_b and "<script>王" not in page_b
        assert "乡镇领导 · 东河镇" in page_a and "乡镇领导 · 东河镇" not in page_b
        assert "乡镇干部 · 东河镇" in page_b


def test_a_base_html_reading_unslotted_user_data_fails_loudly(users: dict[str, User]) -> None:
    leaky = "<html><title>{% block title %}{% endblock %}</title>{{ user.email }}{% block content %}{% endblock %}"
    templates = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {
                "loaders": [("django.template.loaders.locmem.Loader", {"base.html": leaky})],
                "context_processors": [],
            },
        }
    ]
    shell._shell.cache_clear()
    try:
        with override_settings(TEMPLATES=templates), pytest.raises(shell.ShellError, match=r"user\.email"):
            shell.render_in_shell(_request(users["township_leader"]), title="t", content="c")
    finally:
        shell._shell.cache_clear()


def test_anonymous_requests_are_refused(db: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(shell.ShellError):
        shell.render_in_shell(_request(AnonymousUser()), title="t", content="c")  # type: ignore[arg-type]


def test_the_home_page_csrf_token_passes_django_csrf_checks(users: dict[str, User]) -> None:
    from django.middleware.csrf import CSRF_SECRET_LENGTH, _unmask_cipher_token

    c = Client(enforce_csrf_checks=True)
    c.force_login(users["township_leader"])
    c.get("/")  # the first page sets the csrftoken cookie (Django's own get_token: no secret yet)
    secret = c.cookies["csrftoken"].value
    tokens = set()
    for _ in range(20):
        r = c.get("/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"', r.content.decode())
        assert token is not None and "csrftoken" in r.cookies  # the cookie is renewed, as get_token does
        tokens.add(token.group(1))
        assert len(secret) == CSRF_SECRET_LENGTH and _unmask_cipher_token(token.group(1)) == secret
    assert len(tokens) == 20  # masked afresh on every page
    ok = c.post("/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": tokens.pop()})
    assert ok.status_code == 302
    forged = c.post("/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": "A" * 64})
    assert forged.status_code == 403
