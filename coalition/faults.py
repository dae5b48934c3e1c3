"""What the site answers when a request cannot be served as asked.

- The database does not answer (restarting, failing over, unreachable): 503 with `Retry-After`,
  whichever part of the request met it, never a 500. Connections themselves are health-checked
  (`CONN_HEALTH_CHECKS` in settings), so one left over from before a restart is replaced, not used.
- A request the framework cannot decode (a form sent in a character set other than UTF-8, a body
  it refuses to parse) or that carries a NUL character (which no text of ours holds and
  PostgreSQL refuses): 400, before any view or database sees it.

These pages are rendered without the request's context (no session, no user, no database) and
fall back to plain text if even the template cannot be rendered.
"""

import logging
import sys

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.utils.cache import add_never_cache_headers
from django.utils import translation
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from . import params

log = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def _page(status: int, title: str, text: str) -> HttpResponse:
    try:
        body = loader.render_to_string("plain_error.html", {"title": title, "text": text})
        content_type = "text/html; charset=utf-8"
    except Exception:  # noqa: BLE001 (the error page must not fail in its turn)
        log.exception("The %s page could not be rendered; answering in plain text", status)
        body, content_type = f"{title}\n\n{text}\n", "text/plain; charset=utf-8"
    response = HttpResponse(body, status=status, content_type=content_type)
    add_never_cache_headers(response)
    return response


def database_unavailable(request=None) -> HttpResponse:
    """503 with Retry-After: the database did not answer. Nothing the person sent was saved."""
    response = _page(503, _("Temporarily unavailable"),
                     _("The site cannot reach its database at the moment. Nothing you sent was saved. "
                       "Please try again in a minute."))
    response["Retry-After"] = str(settings.DATABASE_RETRY_AFTER_SECONDS)
    return response


def bad_request(request=None, exception=None) -> HttpResponse:
    """400 for a request that cannot be read (handler400 too): never reads the request's data.
    In the reader's language, also when refused before LocaleMiddleware has chosen it."""
    with translation.override(translation.get_language_from_request(request) if request else None):
        return _page(400, _("Bad request"),
                     _("The request could not be read: it holds characters or an encoding this site "
                       "does not accept. Nothing was done."))


def server_error(request=None) -> HttpResponse:
    """handler500: a database outage met outside a view (a session being read in a middleware)
    is a 503 too, and so is a cache that cannot be reached there (a session being saved); anything else the plain 500 page, rendered without the request's context."""
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return database_unavailable(request)
    if isinstance(sys.exc_info()[1], RedisError):  # a session's cached copy could not be changed (coalition/sessions.py)
        response = _page(503, _("Temporarily unavailable"),
                         _("This action is temporarily unavailable. Nothing was done. Please try again in a few minutes."))
        response["Retry-After"] = str(settings.DATABASE_RETRY_AFTER_SECONDS)
        return response
    try:
        return HttpResponse(loader.render_to_string("500.html"), status=500)
    except Exception:  # noqa: BLE001
        return HttpResponse("Server error", status=500, content_type="text/plain; charset=utf-8")


class DatabaseOutageMiddleware:
    """Turns a database error in a view (or in rendering its page) into the 503 page. Errors
    raised in other middleware reach `server_error` (handler500), which answers the same."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            log.warning("Database unavailable for %s %s: %s", request.method, request.path, exception)
            return database_unavailable(request)
        return None


class RequestDecodingMiddleware:
    """Reads a form's fields early (URL-encoded only: multipart uploads are left to the view and
    its upload handlers) and answers 400 if they cannot be decoded, or if the path, the query
    string, a cookie or a field holds a NUL character. Without it, whatever reads `request.POST`
    first (the CSRF check, a view, an error page) meets Django's `BadRequest` there, and a NUL
    reaches PostgreSQL, which raises: both were 500s in issue 14's reproduction."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self.refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    def refusal(self, request) -> HttpResponse | None:
        if request.method == "POST" and request.content_type == FORM_CONTENT_TYPE:
            try:
                request.POST  # noqa: B018 (parsed here, so a failure is answered here)
            except RequestDataTooBig:
                request._mark_post_parse_error()
                with translation.override(translation.get_language_from_request(request)):
                    return _page(413, _("Too large"),
                                 _("What was sent is larger than this site accepts. Nothing was done."))
            except (BadRequest, SuspiciousOperation, UnicodeDecodeError, ValueError):
                request._mark_post_parse_error()
                return bad_request(request)
            if self._holds_nul(request.POST):
                return bad_request(request)
        if params.has_nul(request.path) or self._holds_nul(request.GET) or any(
                params.has_nul(name) or params.has_nul(value) for name, value in request.COOKIES.items()):
            return bad_request(request)
        return None

    @staticmethod
    def _holds_nul(data) -> bool:
        return any(params.has_nul(name) or any(params.has_nul(value) for value in values)
                   for name, values in data.lists())


class RefuseUnreadableHeaders:
    """WSGI: Django builds the request before any middleware runs, and a Content-Type whose
    charset holds a NUL (`text/html; charset=\\x00`) makes building it raise (codecs.lookup), a
    500 from the server. Such a request answers 400 here, in plain text: there is no request yet
    to choose a language or a page by."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if params.has_nul(environ.get("CONTENT_TYPE", "")):
            start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Bad request: the Content-Type header cannot be read.\n"]
        return self.application(environ, start_response)
