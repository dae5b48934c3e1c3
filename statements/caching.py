"""Anonymous visitors' copies of public pages (archive, statement, organisation, feed, API).

A view opts in with `cache_public_page`; `PublicPageCacheMiddleware`, early in the middleware
stack, stores what such a view answered and serves the stored copy to the next anonymous
visitor before sessions, CSRF, authentication and the view run. A copy is keyed by the path with
its query, the language, and a generation number; any change to what public pages show (a
statement, revision, signature, publication, organisation or membership saved) starts a new
generation, so every page is recomputed on its next visit. That is coarse, but always right, and
public pages change rarely. The generation moves both at once (the writer's next page is fresh)
and after commit (so a copy made from what the transaction was still changing is not kept).

Only what carries nothing of the visitor's own is stored or served: GET with no session or
messages cookie (so nobody is signed in), answered 200 with no cookie set and no form token used.
"""

import hashlib
import logging
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import patch_cache_control

GENERATION_KEY = "public-pages:generation"
TIMEOUT = 60 * 60
log = logging.getLogger(__name__)


def _tolerant(function):
    """The cache is an optimisation: if it cannot be reached (Redis down), pages are served and
    saves succeed without it, and the problem is logged. Copies stored before an outage expire
    within TIMEOUT even if a change made during the outage could not renew them."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except Exception:  # noqa: BLE001  (any cache failure)
            log.warning("Public page cache unavailable in %s", function.__name__, exc_info=True)
            return None

    return wrapper


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        value = cache.get(GENERATION_KEY, 1)
    return value


@_tolerant
def _bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not there (evicted or never set): any new value invalidates
        cache.set(GENERATION_KEY, 1, timeout=None)
        cache.incr(GENERATION_KEY)


def public_pages_changed(instance=None, **kwargs) -> None:
    """Signal receiver: what public pages show has changed. An individual's signature not yet
    confirmed is on no public page (its confirmation is saved again), so it changes nothing."""
    from .models import Signature

    if isinstance(instance, Signature) and instance.kind == Signature.Kind.INDIVIDUAL and not instance.confirmed_at:
        return
    _bump()
    transaction.on_commit(_bump)


def cache_public_page(view):
    """Mark the view's answers as the same for every anonymous visitor (see the module's doc)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.public_page = True
        return response

    return wrapper


def _anonymous_get(request) -> bool:
    return (request.method == "GET" and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and "messages" not in request.COOKIES)


def _key(request) -> str:
    language = translation.get_language_from_request(request)
    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    return f"public-page:{generation()}:{language}:{path}"


def _storable(request, response) -> bool:
    user = getattr(request, "user", None)
    return (getattr(response, "public_page", False) and response.status_code == 200
            and not response.streaming and not response.cookies
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")  # no form token in the page
            and (user is None or not user.is_authenticated))


class PublicPageCacheMiddleware:
    """Serve and store anonymous visitors' copies of pages marked with `cache_public_page`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _anonymous_get(request):
            return self.get_response(request)
        key = _tolerant(_key)(request)
        if key is None:
            return self.get_response(request)
        stored = _tolerant(cache.get)(key)
        if stored is not None:
            status, headers, content = stored
            response = HttpResponse(content, status=status)
            for name, value in headers:
                response[name] = value
            return response
        response = self.get_response(request)
        if _storable(request, response):
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            patch_cache_control(response, public=True, max_age=60)
            _tolerant(cache.set)(key, (response.status_code, list(response.items()), response.content), TIMEOUT)
        return response
