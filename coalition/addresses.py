"""Email addresses as one person: the canonical form that per-address limits and the one live
signature per person count, and the keyed hash kept in place of an address.

Canonical form: the whole address lowercased; for the providers below, which deliver
`name+anything@` to `name@`, the `+tag` is removed; for Gmail, which also ignores dots in the
name, the dots are removed too, and `googlemail.com` is `gmail.com`. Other domains may treat
`+` and dots as different mailboxes, so their addresses are only lowercased.
"""

import hashlib
import hmac

from django.conf import settings

GMAIL = {"gmail.com", "googlemail.com"}
# Providers where `name+tag@` is an alias of `name@` (their documentation says so).
PLUS_ALIASES = GMAIL | {
    "outlook.com", "hotmail.com", "live.com", "msn.com",  # Microsoft
    "icloud.com", "me.com", "mac.com",  # Apple
    "proton.me", "protonmail.com", "protonmail.ch", "pm.me",  # Proton
    "fastmail.com", "fastmail.fm",
    "yandex.ru", "yandex.com", "ya.ru",
    "zoho.com", "zohomail.com",
}


def canonical_email(address: str) -> str:
    """The address as one person: `Olena.K+petition@GoogleMail.com` -> `olenak@gmail.com`."""
    address = (address or "").strip().lower()
    name, at, domain = address.rpartition("@")
    if not at or not name:
        return address
    if domain in PLUS_ALIASES:
        name = name.split("+", 1)[0] or name
    if domain in GMAIL:
        name, domain = name.replace(".", "") or name, "gmail.com"
    return f"{name}@{domain}"


def email_hash(address: str) -> str:
    """The keyed hash (HMAC-SHA256 with AUDIT_HASH_KEY) of the lowercased address, kept where the
    address itself must not be: a guessed address cannot be checked against it without the key."""
    key = settings.AUDIT_HASH_KEY.encode()
    return hmac.new(key, (address or "").strip().lower().encode(), hashlib.sha256).hexdigest()
