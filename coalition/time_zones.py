"""Time zones people may choose for themselves.

The site's zone (settings.TIME_ZONE, Kyiv) is the one every time is stated in; a person may choose
another in their account and then sees both (statements/templatetags/zoned.py).
"""

import functools
import zoneinfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


@functools.cache
def available() -> frozenset[str]:
    """IANA names zoneinfo knows, less the legacy aliases nobody picks ("EST5EDT", "Etc/GMT+3")."""
    return frozenset(name for name in zoneinfo.available_timezones()
                     if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/")))


def validate_time_zone(value: str) -> None:
    """Blank is the site's zone; anything else must be a zone zoneinfo knows."""
    if value and value not in available():
        raise ValidationError(_("“%(zone)s” is not a time zone we know; choose one from the list."),
                              code="invalid_time_zone", params={"zone": value})
