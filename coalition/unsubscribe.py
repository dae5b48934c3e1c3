"""Unsubscribe links for bulk email (RFC 8058 one-click and the page behind the link).

A token is signed (django.core.signing) and names an email address and a kind of message, so the
same link works for a staff member with an account and for a public subscriber without one. It
does not expire: an unsubscribe link in an old email must still work.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import EmailOptOut

SALT = "coalition.unsubscribe"
BULK_KINDS = frozenset(EmailOptOut.Kind.values)


class BadToken(Exception):
    """The token was not made by this site, or names no kind of bulk message."""


def normalise(email: str) -> str:
    return email.strip().lower()


def make_token(email: str, kind: str) -> str:
    return signing.dumps({"a": normalise(email), "k": kind}, salt=SALT, compress=True)


def read_token(token: str) -> tuple[str, str]:
    """Return (address, kind) from a token, or raise BadToken."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature as exc:
        raise BadToken(str(exc)) from exc
    if not isinstance(data, dict) or data.get("k") not in BULK_KINDS or not data.get("a"):
        raise BadToken("the token names no kind of bulk message")
    return data["a"], data["k"]


def unsubscribe_url(email: str, kind: str) -> str:
    return settings.SITE_URL + reverse("unsubscribe", args=[make_token(email, kind)])


def url_maker(kind: str):
    """`unsubscribe_url` for many addresses and one kind: the URL is reversed once."""
    mark = "0c5f9a1e-token-mark"
    base = settings.SITE_URL + reverse("unsubscribe", args=[mark])
    return lambda email: base.replace(mark, make_token(email, kind))


def is_opted_out(email: str, kind: str) -> bool:
    return kind in BULK_KINDS and EmailOptOut.objects.filter(email=normalise(email), kind=kind).exists()


def opted_out_kinds(email: str) -> set[str]:
    return set(EmailOptOut.objects.filter(email=normalise(email)).values_list("kind", flat=True))
