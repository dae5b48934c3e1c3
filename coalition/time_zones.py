"""Time zones people may choose for themselves.

The site's zone (settings.TIME_ZONE, Kyiv) is the one every time is stated in; a person may choose
another in their account and then sees both (`format_moment`, and `{{ moment|zoned }}` in
coalition/templatetags/times.py).
"""

import datetime
import functools
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


@functools.cache
def available() -> frozenset[str]:
    """IANA names zoneinfo knows, less the legacy aliases nobody picks ("EST5EDT", "Etc/GMT+3")."""
    return frozenset(name for name in zoneinfo.available_timezones()
                     if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/")))


def validate_time_zone(value: str) -> None:
    """Blank is the site's zone; anything else must be a zone zoneinfo knows."""
    if value and value not in available():
        raise ValidationError(gettext_lazy("“%(value)s” is not a time zone we know; choose one from the list."),
                              code="invalid_time_zone", params={"value": value})


# Showing a time -------------------------------------------------------------------------------

# The site's zone as a sentence names it after a time. Another site zone reads "Europe/Vienna time".
SITE_ZONE_NAMES = {"Europe/Kyiv": gettext_lazy("Kyiv time"), "Europe/Kiev": gettext_lazy("Kyiv time")}
DATE_AND_TIME = "j E Y, H:i"


def site_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def site_zone_name() -> str:
    """"Kyiv time" / «за київським часом»: what follows a time of day in the site's zone."""
    name = SITE_ZONE_NAMES.get(settings.TIME_ZONE)
    return str(name) if name else _("%(zone)s time") % {"zone": zone_label(settings.TIME_ZONE)}


def zone_label(name: str) -> str:
    """"America/New_York" as people read it: "America/New York"."""
    return name.replace("_", " ")


def readers_zone() -> str:
    """The zone of whoever the page or message is for (activated by `UserTimeZoneMiddleware`, or
    by `outbox.render_message` for a message), if it is not the site's; else ""."""
    name = timezone.get_current_timezone_name()
    return "" if name == settings.TIME_ZONE else name


def format_site_time(value: datetime.datetime) -> str:
    """The date and time of day in the site's zone, without naming the zone: "7 December 2026, 18:00"."""
    return formats.date_format(value.astimezone(site_zone()), DATE_AND_TIME)


def format_moment(value, *, date_format: str = DATE_AND_TIME) -> str:
    """A moment as pages, emails and the PDF state it, in the active language: always in the
    site's zone and saying so, and also in the reader's own zone when they chose another:
    "7 December 2026, 18:00 Kyiv time (17:00 your time, Europe/Warsaw)". A date without a time
    is just the date; "" for nothing."""
    if value in (None, ""):
        return ""
    if not isinstance(value, datetime.datetime):
        return formats.date_format(value, "j E Y")
    if timezone.is_naive(value):
        value = timezone.make_aware(value, site_zone())
    here = value.astimezone(site_zone())
    text = _("%(moment)s %(zone)s") % {"moment": formats.date_format(here, date_format), "zone": site_zone_name()}
    theirs = readers_zone()
    if theirs:
        there = value.astimezone(zoneinfo.ZoneInfo(theirs))
        # The reader's clock alone if it is the same day there, else with its date.
        when = formats.time_format(there, "H:i") if there.date() == here.date() else formats.date_format(there, date_format)
        text = _("%(moment)s (%(their_time)s your time, %(zone)s)") % {
            "moment": text, "their_time": when, "zone": zone_label(theirs)}
    return text


# Typing a time --------------------------------------------------------------------------------


def _input_label(label) -> str:
    theirs = readers_zone()
    zone = _("your time, %(zone)s") % {"zone": zone_label(theirs)} if theirs else site_zone_name()
    return _("%(label)s (%(zone)s)") % {"label": label, "zone": zone}


def _input_help(help_text) -> str:
    """Which zone a typed time is read in (Django's DateTimeField reads it in the active zone:
    the reader's if they chose one, else the site's), with the time there now to check against."""
    theirs = readers_zone()
    if theirs:
        now = formats.time_format(timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(theirs)), "H:i")
        zone = _("Give the time in your time zone, %(zone)s (it is %(now)s there now); pages show it "
                 "as %(site_zone)s too.") % {"zone": zone_label(theirs), "now": now, "site_zone": site_zone_name()}
    else:
        now = formats.time_format(timezone.localtime(timezone.now(), site_zone()), "H:i")
        zone = _("Give the time as %(site_zone)s (it is %(now)s there now).") % {"site_zone": site_zone_name(),
                                                                                 "now": now}
    return f"{help_text} {zone}" if help_text else zone


# Labels and help texts are declared with the form class and read when the form is shown, in the
# zone then active.
input_label = lazy(_input_label, str)
input_help = lazy(_input_help, str)


# Choosing a zone ------------------------------------------------------------------------------

# The first part of a zone's name, as the choice list's groups are headed.
REGIONS = {
    "Africa": gettext_lazy("Africa"), "America": gettext_lazy("America"),
    "Antarctica": gettext_lazy("Antarctica"), "Arctic": gettext_lazy("Arctic"), "Asia": gettext_lazy("Asia"),
    "Atlantic": gettext_lazy("Atlantic Ocean"), "Australia": gettext_lazy("Australia"),
    "Europe": gettext_lazy("Europe"), "Indian": gettext_lazy("Indian Ocean"), "Pacific": gettext_lazy("Pacific Ocean"),
}


def _offset(name: str, now: datetime.datetime) -> str:
    minutes = int(now.astimezone(zoneinfo.ZoneInfo(name)).utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def choices() -> list:
    """The zones a person may choose, grouped by region (a plain <select> with <optgroup>s, no
    script needed), each as "Warsaw (UTC+01:00)" with its offset now; first, the site's zone."""
    now = timezone.now()
    groups: dict[str, list] = {}
    for name in sorted(available()):
        region, _slash, place = name.partition("/")
        if region in REGIONS and name != settings.TIME_ZONE and name not in SITE_ZONE_NAMES:
            groups.setdefault(region, []).append((name, f"{place.replace('/', ' / ').replace('_', ' ')} "
                                                        f"({_offset(name, now)})"))
    site = _("%(zone)s (site default)") % {"zone": site_zone_name()}
    return [("", site), *((str(REGIONS[region]), options) for region, options in sorted(groups.items()))]
