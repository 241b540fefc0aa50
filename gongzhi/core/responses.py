"""Small helpers every pillar's views share."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseRedirect
from django.urls import reverse


def see_other(to: str, *args: Any, query: str = "", **kwargs: Any) -> HttpResponseRedirect:
    """After a POST: 303 See Other, so the follow-up is a GET whatever the browser or htmx does. ``to`` is a path or
    a URL name with its positional or keyword arguments; ``query`` is appended after ``?``."""
    url = to if to.startswith("/") else reverse(to, args=args or None, kwargs=kwargs or None)
    resp = HttpResponseRedirect(url + (f"?{query}" if query else ""))
    resp.status_code = 303
    return resp


def int_or_none(value: Any) -> int | None:
    """A query or form value as an int, or None when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
