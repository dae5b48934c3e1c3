"""Stored copies of public pages (archive, statement, signatories, organisation, feed, API) and of
the statement page's heavy fragments, renewed when what they show changes, not when anything does.
The machinery is here; what is about statements (their versions, what moves them, a statement
page's values) is in statements/caching.py.

A view opts in with `cache_public_page`; `PublicPageCacheMiddleware`, early in the middleware
stack, stores what such a view answered to an anonymous visitor and serves the stored copy to the
next one before sessions, CSRF, authentication and the view run. A copy is keyed by the path with
its query and the language (`public-page:<language>:<sha256 of path>`) and carries the versions
of what it was made from, read before the view read its data:

- `public-pages:site`: coalitions, organisations and memberships (names on every page);
- `public-pages:archive`: what lists of public statements show (archive, front page, feed,
  sitemap, API list, organisation pages): moves when a statement is published or withdrawn, a
  publication is saved, or a public statement's text changes (its signatures never do);
- `public-pages:statement:<pk>`: one statement's status, texts and publications;
- `public-pages:signatures:<pk>`: one statement's signatures (a version that `may_lag`).

A page about one statement (a view that found it through `views.common.visible_statement`, or
called `statements.caching.page_depends_on`) depends on the site and that statement's two
versions; every other page on the site and the archive. A signature confirmed on an open statement moves only that
statement's signatures version: no other page is renewed.

A copy whose versions all match is served. One that differs in anything but signatures (versions
that `may_lag`) is rendered again at once (a withdrawal or a new text shows on the next visit). One
that differs only in signatures is served while it is younger than STATEMENT_PAGE_STALE_SECONDS;
after that the first visitor to take the page's lock (`cache.add`, held at most
STATEMENT_PAGE_LOCK_SECONDS) renders the new copy and everyone else still gets the stored one
meanwhile. So a campaign that confirms signatures every few milliseconds costs one render per page
per STALE seconds, and a signature shows on the public page at most STATEMENT_PAGE_STALE_SECONDS
plus one render after it was confirmed (plus STATEMENT_PAGE_LOCK_SECONDS if the renderer dies while
holding the lock).

Signed-in visitors get their own page (forms, permissions), but its heavy parts come from the same
kind of stored copy: `{% statement_fragment %}` (statements/templatetags/public_cache.py) keys a
fragment by the statement, the language and what of the visitor it shows, under the same rule.

Versions move when a change is saved (the writer's next page is fresh) and again after its
transaction commits (a copy made from data the transaction was still changing is not kept), once
per transaction however many of its rows were saved. A version that is missing (evicted) starts again at the clock's nanoseconds,
so no old copy can match it.

Only what carries nothing of the visitor's own is stored or served: GET with no session or
messages cookie (so nobody is signed in), answered 200 with no cookie set and no form token used.
"""

import hashlib
import logging
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import patch_cache_control

SITE = "public-pages:site"
ARCHIVE = "public-pages:archive"
TIMEOUT = 60 * 60
# A copy past TIMEOUT is renewed like one behind in signatures (one request renders, the others
# get it meanwhile), so a busy page never expires under everyone at once; it is kept this much longer.
KEPT_AFTER_TIMEOUT = 10 * 60
log = logging.getLogger(__name__)

# The starts of the keys of versions whose change may be shown a few seconds late (`may_lag`).
_LAGGING: set[str] = set()


def may_lag(*prefixes: str) -> None:
    """A change to a version whose key starts with one of `prefixes` only adds or removes
    signatures: a page behind in it may be served for STATEMENT_PAGE_STALE_SECONDS more."""
    _LAGGING.update(prefixes)


def _soft(key: str) -> bool:
    """A change that only adds or removes signatures may be shown a few seconds late."""
    return key.startswith(tuple(_LAGGING))


def stale_seconds() -> float:
    return settings.STATEMENT_PAGE_STALE_SECONDS


def lock_seconds() -> float:
    return settings.STATEMENT_PAGE_LOCK_SECONDS


def tolerant(function):
    """The cache is an optimisation: if it cannot be reached (Redis down), pages are served and
    saves succeed without it, and the problem is logged. Copies stored before an outage are
    renewed within TIMEOUT (and one render) even if a change made during it could not renew them."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except Exception:  # noqa: BLE001  (any cache failure)
            log.warning("Public page cache unavailable in %s", function.__name__, exc_info=True)
            return None

    return wrapper


# Versions ---------------------------------------------------------------------------------------

def versions(keys) -> dict[str, int]:
    """The current versions of `keys`, starting the missing ones."""
    keys = list(keys)
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    for key in missing:
        cache.add(key, time.time_ns(), timeout=None)
    if missing:
        found.update(cache.get_many(missing))
    return {key: found.get(key) for key in keys}


@tolerant
def _bump(keys) -> None:
    for key in keys:
        try:
            cache.incr(key)
        except ValueError:  # not there (evicted or never set): a new start matches no stored copy
            cache.set(key, time.time_ns(), timeout=None)


class _AfterCommit:
    """The keys a transaction changed, bumped once when it commits."""

    def __init__(self):
        self.keys = set()

    def __call__(self):
        _bump(sorted(self.keys))


def changed(*keys: str) -> None:
    """What `keys` stand for has changed: bump them now (the writer's next page), and once more
    after the transaction commits, once however many rows of it were saved."""
    _bump(keys)
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return  # already committed
    pending = next((func for _, func, _ in connection.run_on_commit if isinstance(func, _AfterCommit)), None)
    if pending is None:
        pending = _AfterCommit()
        transaction.on_commit(pending)
    pending.keys.update(keys)


# Stored copies ----------------------------------------------------------------------------------

def _serve_stored(key: str, entry: dict, known: dict | None = None) -> tuple[bool, bool]:
    """Whether to serve the copy `entry` stored under `key`, and whether this request took the
    lock to render the next copy (it must `_release` it). A copy whose versions all match is
    served; one behind only in signatures is served while younger than STALE seconds, and after
    that by everyone but the one request that takes the lock; so is one older than TIMEOUT;
    anything else is rendered again. `known`: versions already read with the copy, if they are
    the ones it depends on (no second trip to the cache)."""
    if known is not None and all(name in known for name in entry["versions"]):
        current = known
    else:
        current = versions(entry["versions"])
    differ = [name for name, value in entry["versions"].items() if current[name] != value]
    age = time.time() - entry["made"]
    if not differ and age < TIMEOUT:
        return True, False
    if not all(_soft(name) for name in differ):
        return False, False
    if age < stale_seconds():
        return True, False
    locked = cache.add(f"{key}:lock", 1, timeout=max(1, round(lock_seconds())))
    return not locked, locked


def _stored(key: str, entry: dict | None, known: dict | None = None) -> tuple[bool, bool]:
    if entry is None:
        return False, False
    try:
        return _serve_stored(key, entry, known)
    except Exception:  # noqa: BLE001  (cache unreachable mid-way: render, as without a cache)
        log.warning("Public page cache unavailable for %s", key, exc_info=True)
        return False, False


@tolerant
def _release(key: str) -> None:
    cache.delete(f"{key}:lock")


def stored_or_render(key: str, read_versions, render, *, stale_allowed: bool = True, known: dict | None = None,
                     keep=None) -> str:
    """A fragment's text: the copy stored under `key` if it may be served (as a page's, above),
    else `render()`'s, stored with the versions `read_versions()` gives before it renders. Not
    `stale_allowed` (inside a page whose copy will be stored as made now), only a current copy is
    served: a page must not store an older fragment under newer versions. `known`: the versions
    `read_versions()` gives, if already read for this request (no second trip to the cache).
    `keep(content)`: whether a copy may be stored at all (false for what another process is about
    to change without this one seeing it first, such as a PDF still being made)."""
    entry = tolerant(cache.get)(key)
    serve, locked = _stored(key, entry, known)
    if serve and not stale_allowed and not _current(entry["versions"], known):
        serve = False
    if serve:
        return entry["content"]
    try:
        made, current = time.time(), known or tolerant(read_versions)()
        content = render()
        if current and (keep is None or keep(content)):
            tolerant(cache.set)(key, {"versions": current, "made": made, "content": content},
                                  TIMEOUT + KEPT_AFTER_TIMEOUT)
    finally:
        if locked:
            _release(key)
    return content


def _current(stored: dict, known: dict | None) -> bool:
    if known is not None and all(name in known for name in stored):
        return all(known[name] == value for name, value in stored.items())
    return tolerant(versions)(stored) == stored


def page_also_depends_on(request, *keys: str) -> None:
    """The page being made also shows what `keys` stand for (the archive's open statements): its
    copy is renewed when they move as well. Called before the view reads that data."""
    if getattr(request, "_public_page_versions", None) is not None:
        extra = tolerant(versions)(keys)
        request._public_page_versions = {**request._public_page_versions, **extra} if extra else None


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
            and "messages" not in request.COOKIES
            and not request.path_info.startswith(settings.STATIC_URL))  # WhiteNoise's, further in


def _key(request) -> str:
    language = translation.get_language_from_request(request)
    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    # v2: copies carry the whole stack's headers (the CSP runs inside this middleware now).
    return f"public-page:v2:{language}:{path}"


# The versions each page's copy was last seen to depend on, in this process: read in the same
# trip to the cache as the copy, so serving one is a single MGET. A guess only; a copy that
# depends on others has them read as well. Bounded, since query strings make paths unbounded.
_depends_on: dict[str, tuple[str, ...]] = {}
_DEPENDS_ON_MAX = 20_000


def _remember(key: str, names) -> None:
    if len(_depends_on) >= _DEPENDS_ON_MAX:
        _depends_on.clear()
    _depends_on[key] = tuple(names)


def _storable(request, response) -> bool:
    user = getattr(request, "user", None)
    return (getattr(response, "public_page", False) and response.status_code == 200
            and not response.streaming and not response.cookies
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")  # no form token in the page
            and (user is None or not user.is_authenticated))


def _in_keyed_language(request, response) -> bool:
    """The page was made in the language its key is for. LocaleMiddleware, inside this one, reads
    the language from the same request the same way and says it in Content-Language; a page
    made in another (a view that switched) is not stored, so no reader gets another's language."""
    return response.get("Content-Language") == translation.get_language_from_request(request)


def _response(entry) -> HttpResponse:
    response = HttpResponse(entry["content"], status=entry["status"])
    for name, value in entry["headers"]:
        response[name] = value
    return response


class PublicPageCacheMiddleware:
    """Serve and store anonymous visitors' copies of pages marked with `cache_public_page`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _anonymous_get(request):
            return self.get_response(request)
        key = tolerant(_key)(request)
        found = tolerant(cache.get_many)([key, *_depends_on.get(key, (SITE, ARCHIVE))]) if key else None
        if found is None:
            return self.get_response(request)
        entry = found.pop(key, None)
        if entry is not None and _depends_on.get(key) != tuple(entry["versions"]):
            _remember(key, entry["versions"])
        serve, locked = _stored(key, entry, found)
        if serve:
            return _response(entry)
        # Read before the view reads its data, so a change made meanwhile leaves this copy behind;
        # a page about one statement replaces them (`page_depends_on`).
        site_and_archive = {name: found[name] for name in (SITE, ARCHIVE) if name in found}
        request._public_page_versions = (site_and_archive if len(site_and_archive) == 2
                                         else tolerant(versions)([SITE, ARCHIVE]))
        made = time.time()
        try:
            response = self.get_response(request)
            if (_storable(request, response) and request._public_page_versions
                    and _in_keyed_language(request, response)):
                self.store(key, request._public_page_versions, made, response)
        finally:
            if locked:
                _release(key)
        return response

    @staticmethod
    def store(key: str, page_versions: dict, made: float, response) -> None:
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        # Browsers and proxies keep a statement's page no longer than this cache may be behind.
        patch_cache_control(response, public=True, max_age=60 if ARCHIVE in page_versions else
                            max(0, round(stale_seconds())))
        entry = {"versions": page_versions, "made": made, "status": response.status_code,
                 "headers": list(response.items()), "content": response.content}
        tolerant(cache.set)(key, entry, TIMEOUT + KEPT_AFTER_TIMEOUT)
        _remember(key, page_versions)
