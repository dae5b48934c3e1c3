"""Reading values out of a query string before they reach the database.

Whatever a visitor puts after `?` is a string of any length, holding any character. PostgreSQL
refuses a NUL byte in a query parameter (an exception, not an empty result), and `str.isdigit`
accepts digits `int()` does not ("²", "①"). These helpers answer None for anything that is not
a plain value of the expected kind, so a view treats it as absent (or as a 404) instead of
passing it on.
"""

import re

from django.conf import settings

_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,255}")


def positive_int(value: str | None) -> int | None:
    """A whole number of at least 1 written in ASCII digits (at most 18 of them), else None."""
    if value is None or not _ASCII_DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if number >= 1 else None


def slug(value: str | None) -> str | None:
    """A slug as the URLs spell one (ASCII letters, digits, hyphens, underscores), else None."""
    if value is None or not _SLUG.fullmatch(value):
        return None
    return value


def language(value: str | None) -> str | None:
    """One of the site's languages (settings.LANGUAGES), else None."""
    return value if value in dict(settings.LANGUAGES) else None


def has_nul(value: str) -> bool:
    """A NUL character, which no text of ours ever holds and PostgreSQL refuses."""
    return "\x00" in value
