"""Public subscription to new publications: the form, the "check your email" page, and the
confirmation link's page. None is cached: the form carries a CSRF token."""

from django.conf import settings
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from ..services import subscriptions
from ..forms import SubscribeForm
from .common import EmailLinkRequestView


@method_decorator(never_cache, name="dispatch")
class SubscribeView(EmailLinkRequestView):
    """The same answer whatever the address (new, waiting for confirmation, or subscribed), and
    for the honeypot: nobody learns who subscribed."""

    form_class = SubscribeForm
    template_name = "statements/subscribe.html"
    sent_url_name = "subscription_sent"

    def act(self, email: str, *, language: str, ip: str) -> None:
        subscriptions.subscribe(email, language=language, ip=ip)


@method_decorator(never_cache, name="dispatch")
class SubscriptionSentView(TemplateView):
    template_name = "statements/subscription_sent.html"
    extra_context = {"confirmation_hours": settings.SUBSCRIPTION_CONFIRMATION_HOURS}


@method_decorator(never_cache, name="dispatch")
class ConfirmSubscriptionView(TemplateView):
    """The emailed link's page. A GET only shows a button (mail scanners open links); its POST
    confirms. A forged or ended link is a 400, an expired one a 410."""

    template_name = "statements/subscription_confirm.html"

    def get(self, request, *args, **kwargs):
        try:
            subscriber = subscriptions.find_by_token(kwargs["token"])
        except subscriptions.BadToken as exc:
            return self.refuse(exc)
        return self.render_to_response(self.get_context_data(subscriber=subscriber))

    def post(self, request, *args, **kwargs):
        try:
            subscriber = subscriptions.confirm(kwargs["token"])
        except subscriptions.BadToken as exc:
            return self.refuse(exc)
        return self.render_to_response(self.get_context_data(subscriber=subscriber, confirmed=True))

    def refuse(self, exc):
        expired = isinstance(exc, subscriptions.ExpiredToken)
        return self.render_to_response(self.get_context_data(refused=True, expired=expired),
                                       status=410 if expired else 400)
