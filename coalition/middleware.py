from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import permissions, time_zones


class UserLanguageMiddleware:
    """A signed-in person who has not picked a language in this browser sees the site in the
    language saved on their account (the one their emails use)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            and user.language in dict(settings.LANGUAGES)
        ):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class UserTimeZoneMiddleware:
    """A signed-in person who chose a time zone in their account has it active for the request:
    times are shown in the site's zone and in theirs (`time_zones.format_moment`), and a time they
    type into a form is read in theirs. Everyone else has the site's zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
        with timezone.override(zone if zone in time_zones.available() else None):
            return self.get_response(request)


class RequireMFAMiddleware:
    """Coordinators and anyone with admin access (`permissions.requires_mfa`) who have no TOTP
    authenticator are sent to TOTP enrolment from every page but the few needed to finish it or
    to leave. A POST elsewhere is refused the same way, before its view runs, so nothing changes.
    allauth has no setting for this. Goes after allauth's AccountMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._open_prefixes = None

    def __call__(self, request):
        if self._must_enrol(request) and not request.path.startswith(self._allowed_prefixes()):
            return self._send_to_enrolment(request)
        return self.get_response(request)

    @staticmethod
    def _must_enrol(request) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        # Read once for the request: the menu lists them too (context_processors.site).
        request.coordinated_coalitions = list(permissions.coordinated_coalitions(user))
        return (permissions.requires_mfa(user, coordinated=request.coordinated_coalitions)
                and not is_mfa_enabled(user, [Authenticator.Type.TOTP]))

    def _allowed_prefixes(self) -> tuple[str, ...]:
        if self._open_prefixes is None:
            self._open_prefixes = (
                reverse("mfa_index"),  # enrolment, recovery codes, the code step
                reverse("account_reauthenticate"),  # enrolment asks for the password again after a while
                # allauth refuses enrolment while an address is unverified: let it be confirmed or removed.
                reverse("account_email"),
                reverse("account_confirm_email", args=["x"]).rsplit("x", 1)[0],
                reverse("account_logout"),
                reverse("set_language"),
                reverse("choose_language", args=["en"]).rsplit("en", 1)[0],
                reverse("healthz"),
                settings.STATIC_URL,
                settings.MEDIA_URL,
            )
        return self._open_prefixes

    @staticmethod
    def _send_to_enrolment(request):
        if request.method in ("GET", "HEAD"):
            text = _("Coordinators and site operators must protect their account with two-factor "
                     "authentication before they continue. Set up an authenticator app below.")
        else:
            text = _("Nothing was saved: coordinators and site operators must set up two-factor "
                     "authentication first. Set up an authenticator app below, then try again.")
        messages.warning(request, text)
        return HttpResponseRedirect(reverse("mfa_activate_totp"))
