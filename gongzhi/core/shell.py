"""The page shell (``base.html``), rendered once per shape and reused, with each request's own values put in.

Rendering ``base.html`` through Django's template engine cost about as much CPU as everything else on the home page
(bench/http.py). Almost all of it is the same for every user who sees the same navigation in the same language:
only a handful of values belong to the request — the CSRF token, the user's name, the labels of their roles, the
path (for the language switch), the flash messages, the page title and the page body. So the shell is rendered by
Django from ``base.html`` itself (one source of truth; every other page still extends it) with a marker in place
of each of those values, split at the markers and kept per process; a request joins the parts with its own values,
escaped as the template would escape them.

Nothing per-user is cached: the cache key is the language, the navigation markup (a function of the role set and
the page), the number of role labels, whether the password link shows and the tags of any flash messages — and the
shell is rendered from exactly those inputs plus markers. Stand-ins for the user and the request refuse any other
attribute, so a later edit of ``base.html`` that reads more per-user data fails loudly instead of baking one
user's data into a shared shell (``tests/core/test_shell.py``).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.contrib.messages.constants import DEFAULT_LEVELS
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token
from django.template import Context, Engine
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, get_language_bidi

from .context_processors import navigation

BASE = "base.html"
_OPEN, _CLOSE = "\x02", "\x03"  # never in template text, never produced by escaping


def _marker(name: str) -> SafeString:
    return mark_safe(f"{_OPEN}{name}{_CLOSE}")  # noqa: S308 - slot names are ours, never user input


class ShellError(RuntimeError):
    """base.html read per-request data that the shell has no slot for."""


class _StandIn:
    """Answers only the attributes it was given; anything else is an error, never a silently shared value."""

    def __init__(self, what: str, text: str, **attrs: Any) -> None:
        self.__dict__.update(attrs)
        self._what = what
        self._text = text

    def __str__(self) -> str:
        return self._text

    def __getattr__(self, name: str) -> Any:
        # Probes by the template engine and by escaping must get an AttributeError, as for any object.
        if name.startswith("_") or name in ("do_not_call_in_templates", "alters_data", "resolve_expression"):
            raise AttributeError(name)
        raise ShellError(
            f"base.html reads {self._what}.{name}: give it a slot in core/shell.py (or make it part of the key)"
        )

    def __getitem__(self, key: Any) -> Any:
        raise TypeError  # templates try item lookup before attributes

    def __bool__(self) -> bool:
        raise ShellError(f"base.html tests {self._what} itself: give it a slot in core/shell.py")

    def __iter__(self) -> Any:
        raise ShellError(f"base.html loops over {self._what}: give it a slot in core/shell.py")


@lru_cache(maxsize=512)
def _shell(
    lang: str,
    nav_html: str,
    links: tuple[tuple[str, str], ...],
    head_assets: str,
    n_grants: int,
    usable_password: bool,
    message_tags: tuple[str, ...],
) -> tuple[str, ...]:
    """base.html for one shape, split at the markers: literal text at even positions, slot names at odd ones."""
    engine = Engine.get_default()
    template = engine.from_string(
        '{% extends "' + BASE + '" %}'
        "{% block title %}" + _marker("title") + "{% endblock %}"
        "{% block content %}" + _marker("content") + "{% endblock %}"
    )
    context = Context(
        {
            "request": _StandIn("request", "", get_full_path=lambda: _marker("path")),
            "user": _StandIn(
                "user", _marker("user"), is_authenticated=True, has_usable_password=usable_password
            ),
            "user_grants": [_StandIn("grant", "", label=_marker(f"grant{i}")) for i in range(n_grants)],
            "messages": [_StandIn("message", _marker(f"msg{i}"), tags=t) for i, t in enumerate(message_tags)],
            "csrf_token": _marker("csrf"),
            # What the other context processors give base.html: per-user values refuse to be read; the rest
            # depends only on the language (part of the key) or on nothing.
            "perms": _StandIn("perms", ""),
            "nav": _StandIn("nav", ""),
            "is_resident_only": _StandIn("is_resident_only", ""),
            "LANGUAGES": settings.LANGUAGES,
            "LANGUAGE_CODE": lang,
            "LANGUAGE_BIDI": get_language_bidi(),
            "DEFAULT_MESSAGE_LEVELS": DEFAULT_LEVELS,
            "nav_html": mark_safe(nav_html),  # noqa: S308 - built with format_html by the navigation processor
            "links": dict(links),
            "head_assets": mark_safe(head_assets),  # noqa: S308 - static URLs, built with format_html
        },
        autoescape=True,
    )
    html = template.render(context)
    parts: list[str] = []
    for chunk in html.split(_OPEN):
        if parts:
            name, _sep, text = chunk.partition(_CLOSE)
            parts += [name, text]
        else:
            parts.append(chunk)
    return tuple(parts)


_CSRF_INDEX = {c: i for i, c in enumerate(CSRF_ALLOWED_CHARS)}
_N = len(CSRF_ALLOWED_CHARS)
_BELOW = 256 - 256 % _N  # bytes under this, taken modulo _N, are uniform


def _mask(secret: str) -> str:
    """Django's ``_mask_cipher_secret`` (a random mask added to the secret, character by character), with the mask
    drawn from os.urandom in one call instead of 32 calls of ``secrets.choice``: that was a tenth of the home
    page's CPU. Same alphabet, same length, uniform, so CsrfViewMiddleware unmasks it as its own."""
    idx: list[int] = []
    while len(idx) < CSRF_SECRET_LENGTH:
        idx += [b % _N for b in os.urandom(2 * CSRF_SECRET_LENGTH) if b < _BELOW]
    idx = idx[:CSRF_SECRET_LENGTH]
    mask = "".join(CSRF_ALLOWED_CHARS[i] for i in idx)
    cipher = "".join(CSRF_ALLOWED_CHARS[(_CSRF_INDEX[c] + i) % _N] for c, i in zip(secret, idx, strict=True))
    return mask + cipher


def csrf_token(request: HttpRequest) -> str:
    """The request's masked CSRF token, one per request as the template engine's lazy ``csrf_token`` gives.

    Does what ``django.middleware.csrf.get_token`` does; a request without a valid secret yet goes through Django."""
    token: str | None = getattr(request, "_gongzhi_csrf", None)
    if token is None:
        secret = request.META.get("CSRF_COOKIE")
        if (
            isinstance(secret, str)
            and len(secret) == CSRF_SECRET_LENGTH
            and set(secret) <= _CSRF_INDEX.keys()
        ):
            request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # renew the cookie, as get_token does
            token = _mask(secret)
        else:
            token = get_token(request)
        request._gongzhi_csrf = token  # type: ignore[attr-defined]
    return token


def render_in_shell(request: HttpRequest, *, title: str, content: str, status: int = 200) -> HttpResponse:
    """A full page: ``content`` (already rendered HTML) in base.html, for a logged-in user."""
    user: Any = request.user
    if not user.is_authenticated:
        raise ShellError("render_in_shell serves logged-in users only (the shell assumes is_authenticated)")
    nav = navigation(request)
    grants = nav["user_grants"]
    # As {% if messages %}{% for m in messages %} does: iterating marks them shown, an empty store stays untouched.
    storage = get_messages(request)
    messages = list(storage) if len(storage) else []
    # Under DEBUG templates are re-read on every request, so an edit of base.html shows at once here too.
    build = _shell.__wrapped__ if settings.DEBUG else _shell
    parts = build(
        get_language(),
        str(nav["nav_html"]),
        tuple(nav["links"].items()),
        str(nav["head_assets"]),
        len(grants),
        bool(user.has_usable_password()),
        tuple(str(m.tags) for m in messages),
    )
    values: dict[str, str] = {
        "title": conditional_escape(title),
        "content": content,
        "path": conditional_escape(request.get_full_path()),
        "user": conditional_escape(str(user)),
        "csrf": conditional_escape(csrf_token(request)),
    }
    for i, g in enumerate(grants):
        values[f"grant{i}"] = conditional_escape(g.label)
    for i, m in enumerate(messages):
        values[f"msg{i}"] = conditional_escape(str(m))
    out = [p if i % 2 == 0 else values[p] for i, p in enumerate(parts)]
    return HttpResponse("".join(out), status=status)
