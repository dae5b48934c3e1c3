"""The privacy page, and erasing an individual's signatures: the request form, the "check your
email" page and the emailed link's page (whose button erases; a GET never does)."""

from email.utils import parseaddr

from django.conf import settings
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from coalition.caching import cache_public_page

from ..services import privacy
from ..forms import ErasureRequestForm
from .common import EmailLinkRequestView


def _periods() -> dict:
    return {"contact_email": parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
            "confirmation_hours": settings.SIGNATURE_CONFIRMATION_HOURS,
            "erasure_hours": settings.ERASURE_LINK_HOURS,
            "unconfirmed_days": settings.UNCONFIRMED_SIGNATURE_DAYS}


@method_decorator(cache_public_page, name="dispatch")
class PrivacyView(TemplateView):
    template_name = "statements/privacy.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**_periods(), **kwargs)


@method_decorator(never_cache, name="dispatch")
class ErasureRequestView(EmailLinkRequestView):
    """The same answer whatever the address (signed or not), and for the honeypot: nobody learns
    who signed."""

    form_class = ErasureRequestForm
    template_name = "statements/privacy_erase.html"
    sent_url_name = "privacy_erase_sent"

    def act(self, email: str, *, language: str, ip: str) -> None:
        privacy.request_erasure(email, language=language, ip=ip)


@method_decorator(never_cache, name="dispatch")
class ErasureSentView(TemplateView):
    template_name = "statements/privacy_erase_sent.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**_periods(), **kwargs)


@method_decorator(never_cache, name="dispatch")
class ErasureConfirmView(TemplateView):
    """The emailed link's page: what will be erased, and the button. A forged link is a 404, an
    expired or used one a 410."""

    template_name = "statements/privacy_erase_confirm.html"

    def get(self, request, *args, **kwargs):
        try:
            signatures = privacy.signatures_for(kwargs["token"])
        except privacy.BadLink as exc:
            return self.refuse(exc)
        return self.render_to_response(self.get_context_data(signatures=signatures))

    def post(self, request, *args, **kwargs):
        try:
            signatures = privacy.erase(kwargs["token"])
        except privacy.BadLink as exc:
            return self.refuse(exc)
        return self.render_to_response(self.get_context_data(signatures=signatures, erased=True))

    def refuse(self, exc):
        reason = "used" if isinstance(exc, privacy.UsedLink) else "expired" if isinstance(
            exc, privacy.ExpiredLink) else "unknown"
        return self.render_to_response(self.get_context_data(refused=reason),
                                       status=404 if reason == "unknown" else 410)
