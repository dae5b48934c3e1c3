"""Public subscription to new publications by email: double opt-in, and its end.

Someone gives an address on /subscribe/; a live `Subscriber` row is written (or found) and an
email with a confirmation link follows. The link's page shows a button (mail scanners open
links, so a GET never confirms); pressing it confirms. The page answers the same for an address
that is already subscribed (and nothing is sent to it), so nobody learns who subscribed.

The link's token is signed (django.core.signing), names the row and its address, and expires
after SUBSCRIPTION_CONFIRMATION_HOURS. Unsubscribing is the bulk kind `statement_published`'s
one-click link (`coalition.unsubscribe`): the opt-out it writes ends the live row
(`end_on_opt_out`), and subscribing again starts a new one.
"""

import secrets

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from coalition import ratelimits
from coalition.models import EmailOptOut
from coalition.unsubscribe import is_opted_out, normalise

from .. import notifications
from ..models import Subscriber

SALT = "statements.subscription"
KIND = EmailOptOut.Kind.STATEMENT_PUBLISHED


class BadToken(Exception):
    """The link was not made by this site, or its subscription has ended."""


class ExpiredToken(BadToken):
    """The link is genuine but too old: subscribe again for a new one."""


def make_token(subscriber: Subscriber) -> str:
    # The nonce makes each link (and so each confirmation message) new, even within a second.
    data = {"s": subscriber.pk, "a": normalise(subscriber.email), "n": secrets.token_hex(4)}
    return signing.dumps(data, salt=SALT, compress=True)


def _live(email: str):
    return Subscriber.objects.filter(email__iexact=normalise(email), unsubscribed_at__isnull=True)


def find_by_token(token: str) -> Subscriber:
    """The live subscription a confirmation link names; raises ExpiredToken or BadToken."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.SUBSCRIPTION_CONFIRMATION_HOURS * 3600)
    except signing.SignatureExpired as exc:
        raise ExpiredToken(str(exc)) from exc
    except signing.BadSignature as exc:
        raise BadToken(str(exc)) from exc
    subscriber = _live(str(data.get("a", ""))).filter(pk=data.get("s")).first() if isinstance(data, dict) else None
    if subscriber is None:
        raise BadToken("the subscription has ended")
    return subscriber


@transaction.atomic
def subscribe(email: str, *, language: str, ip: str) -> str | None:
    """Someone asks for new publications at `email`. Raises `ratelimits.RateLimited` past the
    limits per IP and per address. Returns the token of the confirmation link just emailed (for
    tests; pages never show it), or None for an address already subscribed, which gets nothing."""
    ratelimits.check_subscription(ip=ip, email=email)
    email = normalise(email)
    subscriber = _live(email).select_for_update().first()
    if subscriber is not None and subscriber.confirmed_at and not is_opted_out(email, KIND):
        return None
    if subscriber is None:
        try:
            with transaction.atomic():
                subscriber = Subscriber.objects.create(email=email, language=language)
        except IntegrityError:  # another request wrote it a moment ago: the constraint holds
            subscriber = _live(email).get()
    token = make_token(subscriber)
    notifications.subscription_confirmation(subscriber, token)
    return token


@transaction.atomic
def confirm(token: str) -> Subscriber:
    """The button on the confirmation link's page: the subscription counts from now (pressing it
    again changes nothing). An earlier opt-out of publications at this address is lifted: the
    person has just asked for them."""
    subscriber = find_by_token(token)
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = timezone.now()
        subscriber.save(update_fields=["confirmed_at"])
    EmailOptOut.objects.filter(email=normalise(subscriber.email), kind=KIND).delete()
    return subscriber


def end_on_opt_out(sender, instance: EmailOptOut, created: bool, **kwargs) -> None:
    """Signal receiver: an opt-out of publications (the one-click link, or the preferences page)
    ends the address's live subscription."""
    if created and instance.kind == KIND:
        _live(instance.email).update(unsubscribed_at=timezone.now())
