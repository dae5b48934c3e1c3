"""django-allauth hooks: no open sign-up, account emails go through the outbox, and those who
must use two-factor authentication cannot turn it off."""

import uuid

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from statements import outbox


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Staff join by invitation only (see coalition.views.accept_invitation).
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """allauth asks for the password again before any two-factor change, even a moment after
        sign-in. A coordinator sent straight from sign-in to set up an authenticator app
        (coalition.middleware.RequireMFAMiddleware) would type the same password twice; so
        setting up TOTP, and seeing the recovery codes that follows, within
        ACCOUNT_REAUTHENTICATION_TIMEOUT of signing in with the password needs no second time.
        Turning two-factor authentication off, or making new recovery codes, still asks."""
        if app == "allauth.mfa" and self._enrolling_just_after_sign_in():
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    @staticmethod
    def _enrolling_just_after_sign_in() -> bool:
        import time

        from allauth.account import app_settings
        from allauth.account.internal.flows.login import get_authentication_records
        from allauth.core import context
        from django.urls import reverse

        request = context.request
        enrolment = (reverse("mfa_activate_totp"), reverse("mfa_view_recovery_codes"))
        if request is None or request.path not in enrolment or not request.user.is_authenticated:
            return False
        signed_in = [r["at"] for r in get_authentication_records(request, request.user) if r.get("method") == "password"]
        return bool(signed_in) and time.time() - signed_in[-1] < app_settings.REAUTHENTICATION_TIMEOUT

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render allauth's message as it would, then hand it to the outbox instead of SMTP, so
        no web request waits on a mail server and a failed delivery is retried."""
        from django.contrib.sites.shortcuts import get_current_site
        from allauth.core import context as allauth_context

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request), **context}
        message = self.render_mail(template_prefix, email, ctx)
        html = ""
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                html = content
        outbox.enqueue_rendered(
            kind="account:" + template_prefix.rsplit("/", 1)[-1],
            dedupe_key=f"account:{uuid.uuid4()}",
            recipient=email,
            subject=message.subject,
            text=message.body,
            html=html,
            language=translation.get_language() or "en",
        )


class MFAAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": _(
            "Coordinators and site operators must keep two-factor authentication on, so this "
            "authenticator cannot be removed."
        ),
    }

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """Those who must use two-factor authentication keep their last authenticator (recovery
        codes alone do not count: they go with it)."""
        from coalition import permissions

        if not permissions.requires_mfa(authenticator.user):
            return True
        return (
            Authenticator.objects.filter(user_id=authenticator.user_id)
            .exclude(pk=authenticator.pk)
            .exclude(type=Authenticator.Type.RECOVERY_CODES)
            .exists()
        )
