"""``reverse()`` memoized for the life of the process.

URL names map to fixed paths once the URLconf is loaded, and the pages on every request (navigation, home links)
reverse a dozen names: uncached that was about 1 ms of each home page.
"""

from functools import cache

from django.urls import reverse as _reverse

reverse = cache(_reverse)
