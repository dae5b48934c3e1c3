"""Rate limits: counters in the Django cache (Redis in production, so every web process counts
together), one fixed window per limit.

| what | setting | counted per |
| --- | --- | --- |
| signing as an individual | `SIGNING_RATE_LIMITS` | client IP, email address |
| subscribing to publications | `SUBSCRIPTION_RATE_LIMITS` | client IP, email address |
| asking for a signature's erasure | `SUBSCRIPTION_RATE_LIMITS` (counted apart) | client IP, email address |
| sending an invitation | `INVITATION_RATE_LIMITS` | coordinator, client IP |
| uploading a PDF to /verify/ | `VERIFY_RATE_LIMITS` | client IP |

Sign-in and password reset are limited by allauth (`ACCOUNT_RATE_LIMITS`) in the same cache.
A limit is "amount/period", the period one of s, m, h, d, optionally with a number (`10/15m`).
An address counts in its canonical form (`coalition.addresses.canonical_email`: case, and
`+tags` and Gmail's dots where the provider ignores them), so aliases of one mailbox count together.
Keys hold a hash of the address, IP or user, never the value itself; an IPv6 address counts with
its whole /64 (allauth's `ALLAUTH_RATE_LIMIT_IPV6_PREFIX`), which one client usually holds.

Limits fail closed: when the cache cannot be reached, nothing limited goes ahead. `check` raises
`Unavailable`, allauth's limiter raises the cache's own error, and `RateLimitMiddleware` turns
either into a 503 page asking to try again in a few minutes (pages that count nothing are served
as usual). The middleware also answers 429, not 200, when allauth refuses a sign-in as one
attempt too many.
"""

import hashlib
import ipaddress
import logging
import time

from allauth import app_settings
from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.forms.forms import NON_FIELD_ERRORS
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from redis.exceptions import RedisError

from .addresses import canonical_email

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RETRY_AFTER_SECONDS = 120
log = logging.getLogger(__name__)


class RateLimited(Exception):
    """Too many attempts from one IP, for one address or by one user in the current window."""


class Unavailable(Exception):
    """The counters cannot be reached (Redis down): the limited action is refused."""


def parse(rate: str) -> tuple[int, int]:
    """ "5/h" -> (5, 3600); "10/15m" -> (10, 900)."""
    amount, _, period = rate.partition("/")
    count = period[:-1] or "1"
    return int(amount), int(float(count) * UNITS[period[-1]])


def _hit(action: str, kind: str, value: str, rate: str) -> bool:
    """Count one attempt; False once the window's amount is used up."""
    amount, window = parse(rate)
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    key = f"rl:{action}:{kind}:{window}:{int(time.time() // window)}:{digest}"
    if cache.add(key, 1, timeout=window + 1):
        return amount >= 1
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.set(key, 1, timeout=window + 1)
        count = 1
    return count <= amount


def _network(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{app_settings.RATE_LIMIT_IPV6_PREFIX}", strict=False))
    return ip


def check(action: str, limits: dict[str, str], **values) -> None:
    """Count one attempt at `action` against each of `limits` ({"ip": "20/h", "email": "3/h"}),
    each keyed by the value of the same name; raise RateLimited when any is used up (every
    counter still counts the attempt), Unavailable when the cache cannot be reached."""
    counted = {kind: (_network(str(values[kind])) if kind == "ip" else str(values[kind]), rate)
               for kind, rate in limits.items()}
    try:
        within = [_hit(action, kind, value, rate) for kind, (value, rate) in counted.items()]
    except Exception as exc:  # noqa: BLE001  (any cache failure: fail closed)
        log.warning("Rate limit counters unavailable for %s", action, exc_info=True)
        raise Unavailable(action) from exc
    if not all(within):
        raise RateLimited(action)


def client_ip(request) -> str:
    """The client's address as allauth sees it (ALLAUTH_TRUSTED_PROXY_COUNT and
    ALLAUTH_TRUSTED_CLIENT_IP_HEADER say which proxy headers to believe)."""
    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:  # no address at all
        return "unknown"


def check_individual_signing(*, ip: str, email: str) -> None:
    """Count a sign submission against the limits per IP and per email; raise RateLimited when
    either is used up. Does nothing when SIGNING_RATE_LIMITS_ENABLED is off."""
    if settings.SIGNING_RATE_LIMITS_ENABLED:
        check("signing", settings.SIGNING_RATE_LIMITS, ip=ip or "unknown", email=canonical_email(email))


def check_subscription(*, ip: str, email: str) -> None:
    """Count a subscription request against SUBSCRIPTION_RATE_LIMITS, per IP and per address;
    raise RateLimited when either is used up (lifted with the signing limits)."""
    if settings.SIGNING_RATE_LIMITS_ENABLED:
        check("subscribe", settings.SUBSCRIPTION_RATE_LIMITS, ip=ip or "unknown", email=canonical_email(email))


def check_erasure(*, ip: str, email: str) -> None:
    """Count a request to erase an address's signatures (it sends that address an email) against
    SUBSCRIPTION_RATE_LIMITS, with counters of its own; raise RateLimited when either is used up."""
    if settings.SIGNING_RATE_LIMITS_ENABLED:
        check("erasure", settings.SUBSCRIPTION_RATE_LIMITS, ip=ip or "unknown", email=canonical_email(email))


def check_invitation(*, user, ip: str) -> None:
    """Count an invitation about to be sent against INVITATION_RATE_LIMITS, per coordinator
    ("user") and per IP; raise RateLimited when either is used up."""
    check("invitation", settings.INVITATION_RATE_LIMITS, user=user.pk, ip=ip or "unknown")


def check_verify_upload(*, ip: str) -> None:
    """Count a PDF uploaded to /verify/ (checking its signature is CPU-heavy) against
    VERIFY_RATE_LIMITS, per IP; raise RateLimited when it is used up."""
    check("verify", settings.VERIFY_RATE_LIMITS, ip=ip or "unknown")


def unavailable(request):
    """The 503 page of a limited action refused because its counters cannot be reached."""
    response = render(request, "503.html", status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


class RateLimitMiddleware:
    """Fail closed: a limited action whose counters cannot be reached (our `Unavailable`, or the
    Redis error allauth's limiter lets through) gets the 503 page, not a 500; and allauth's
    sign-in refused as too many attempts answers 429."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (Unavailable, RedisError)):
            return None
        if isinstance(exception, RedisError):  # ours were logged where they were raised
            log.warning("Cache unavailable; refused %s %s", request.method, request.path, exc_info=exception)
        return unavailable(request)

    def process_template_response(self, request, response):
        form = (getattr(response, "context_data", None) or {}).get("form")
        # Only a form already validated: asking an unvalidated one would run its checks again.
        if (response.status_code == 200 and getattr(form, "_errors", None) is not None
                and form.has_error(NON_FIELD_ERRORS, "too_many_login_attempts")):
            response.status_code = 429
        return response
