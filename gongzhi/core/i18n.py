"""``gettext`` memoized per language, for the constant strings of the pages every request renders.

Django's ``gettext`` looks up the active translation through a context-local on every call; the home page made
about 25 such calls, a tenth of its CPU (bench/http.py). Catalogs do not change while the process runs, so the
translation of a literal in a language is computed once. Import it as ``_`` so ``makemessages`` still extracts the
strings; use it for literals only (the cache is bounded, but a dynamic message would only churn it).
"""

from __future__ import annotations

from functools import lru_cache

from django.utils.translation import get_language
from django.utils.translation import gettext as _gettext


@lru_cache(maxsize=4096)
def _translate(lang: str | None, message: str) -> str:
    return _gettext(message)


def gettext(message: str) -> str:
    return _translate(get_language(), message)
