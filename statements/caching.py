"""Anonymous visitors' copies of public pages (archive, statement, organisation, feed, API).

A cached page is keyed by the path with its query, the language, and a generation number; any
change to what public pages show (a statement, revision, signature, publication, organisation or
membership saved) starts a new generation, so every cached page is recomputed on its next visit.
That is coarse, but always right, and public pages change rarely. The generation moves both at
once (the writer's next page is fresh) and after commit (no other request can have cached, in
between, what the transaction was still changing).

Only responses that carry nothing of the visitor's own are cached: GET by an anonymous visitor
with no session or pending messages, answered 200 with no cookie set.
"""

import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.cache import patch_cache_control

GENERATION_KEY = "public-pages:generation"
TIMEOUT = 60 * 60


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        value = cache.get(GENERATION_KEY, 1)
    return value


def _bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not there (evicted or never set): any new value invalidates
        cache.set(GENERATION_KEY, 1, timeout=None)
        cache.incr(GENERATION_KEY)


def public_pages_changed(**kwargs) -> None:
    """Signal receiver: what public pages show has changed."""
    _bump()
    transaction.on_commit(_bump)


def _cacheable_request(request) -> bool:
    return (request.method in ("GET", "HEAD") and not request.user.is_authenticated
            and settings.SESSION_COOKIE_NAME not in request.COOKIES and "messages" not in request.COOKIES)


def _key(request) -> str:
    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    return f"public-page:{generation()}:{request.LANGUAGE_CODE}:{request.method}:{path}"


def cache_public_page(view):
    """Serve anonymous visitors a stored copy of the page while nothing it shows has changed."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _cacheable_request(request):
            return view(request, *args, **kwargs)
        key = _key(request)
        response = cache.get(key)
        if response is not None:
            return response
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        if (response.status_code == 200 and not response.cookies and not getattr(response, "streaming", False)
                and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")):  # no form token in the page
            patch_cache_control(response, public=True, max_age=60)
            cache.set(key, response, TIMEOUT)
        return response

    return wrapper
