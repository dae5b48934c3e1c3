"""The tokens of individual signers' confirmation links: the token goes into the emailed link and
only its digest is kept (`Signature.token_hash`), so a copy of the database confirms nothing.

Below both the use cases that make a link (`services.cosigning`) and the messages that send one
(`notifications`)."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_confirmation_token(signature) -> str:
    """A new confirmation link's token for an individual's signature, valid for
    SIGNATURE_CONFIRMATION_HOURS; the caller saves `token_hash` and `token_expires_at`. The link
    sent before stops working."""
    token = secrets.token_urlsafe(32)
    signature.token_hash = token_digest(token)
    signature.token_expires_at = timezone.now() + timedelta(hours=settings.SIGNATURE_CONFIRMATION_HOURS)
    return token
