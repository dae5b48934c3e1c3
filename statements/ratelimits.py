"""Rate limits on signing as an individual: counters in the Django cache (Redis in production, so
every web process counts together), one fixed window per limit.

A limit is "amount/period" (`SIGNING_RATE_LIMITS`), the period one of s, m, h, d, optionally with
a number (`10/15m`). Keys hold a hash of the address or IP, never the address itself.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class RateLimited(Exception):
    """Too many submissions from one IP or for one email address in the current window."""


def parse(rate: str) -> tuple[int, int]:
    """ "5/h" -> (5, 3600); "10/15m" -> (10, 900)."""
    amount, _, period = rate.partition("/")
    count = period[:-1] or "1"
    return int(amount), int(float(count) * UNITS[period[-1]])


def _hit(scope: str, value: str, rate: str) -> bool:
    """Count one submission; False once the window's amount is used up."""
    amount, window = parse(rate)
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    key = f"signing-rl:{scope}:{window}:{int(time.time() // window)}:{digest}"
    if cache.add(key, 1, timeout=window + 1):
        return amount >= 1
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.set(key, 1, timeout=window + 1)
        count = 1
    return count <= amount


def client_ip(request) -> str:
    """The client's address as allauth sees it (ALLAUTH_TRUSTED_PROXY_COUNT and
    ALLAUTH_TRUSTED_CLIENT_IP_HEADER say which proxy headers to believe)."""
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:  # no address at all
        return "unknown"


def check_individual_signing(*, ip: str, email: str) -> None:
    """Count a sign submission against the limits per IP and per email; raise RateLimited when
    either is used up. Does nothing when SIGNING_RATE_LIMITS_ENABLED is off."""
    if not settings.SIGNING_RATE_LIMITS_ENABLED:
        return
    limits = settings.SIGNING_RATE_LIMITS
    within_ip = _hit("ip", ip or "unknown", limits["ip"])
    within_email = _hit("email", email.strip().lower(), limits["email"])
    if not (within_ip and within_email):
        raise RateLimited


def check_subscription(*, ip: str, email: str) -> None:
    """Count a subscription request against SUBSCRIPTION_RATE_LIMITS, per IP and per address;
    raise RateLimited when either is used up (lifted with the signing limits)."""
    if not settings.SIGNING_RATE_LIMITS_ENABLED:
        return
    limits = settings.SUBSCRIPTION_RATE_LIMITS
    within_ip = _hit("subscribe-ip", ip or "unknown", limits["ip"])
    within_email = _hit("subscribe-email", email.strip().lower(), limits["email"])
    if not (within_ip and within_email):
        raise RateLimited
