"""django-allauth hooks: no open sign-up, account emails go through the outbox, those who
must use two-factor authentication cannot turn it off, and its secrets are stored encrypted."""

import time
import uuid

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context as allauth_context
from allauth.core.internal import ratelimit
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from coalition import addresses, outbox, permissions

from . import mfa_secrets


def count_sign_in_attempt(request, who: str):
    """Count one attempt to sign in as `who` (an address, or a user for a two-factor code) from
    the request's IP against SIGN_IN_RATE_LIMIT_PER_ADDRESS_AND_IP; returns the usage (which a
    success rolls back) or None when the limit is used up. Counting per address and IP, not per
    address alone, keeps a stranger's wrong guesses from locking the owner out; allauth's own
    per-address limit (ACCOUNT_RATE_LIMITS["login_failed"]) stays as a higher ceiling."""
    ip = ratelimit.get_ip(request)
    config = {"login_failed_address_ip": f"{settings.SIGN_IN_RATE_LIMIT_PER_ADDRESS_AND_IP}/key"}
    return ratelimit.consume(request, app="allauth.account", action="login_failed_address_ip",
                             config=config, key=f"{who}|{ip}")


class AccountAdapter(DefaultAccountAdapter):
    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """allauth counts failed sign-ins per this key: the canonical address, so that
        `Name+1@` and `name@` of one mailbox count together."""
        login = credentials.get("email", credentials.get("username", ""))
        return f"{get_current_site(request).domain}:{addresses.canonical_email(login)}"

    def pre_authenticate(self, request, **credentials) -> None:
        """Before allauth's limits (per IP, and the ceiling per address), the limit per address
        and IP; reaching it gives allauth's own answer, the same as any other limit."""
        who = self._get_login_attempts_cache_key(request, **credentials)
        self._address_ip_usage = count_sign_in_attempt(request, f"password:{who}")
        if not self._address_ip_usage:
            raise self.validation_error("too_many_login_attempts")
        super().pre_authenticate(request, **credentials)

    def _rollback_login_failed_rl_usage(self) -> None:
        super()._rollback_login_failed_rl_usage()
        usage = getattr(self, "_address_ip_usage", None)
        if usage:
            usage.rollback()

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
        request = allauth_context.request
        enrolment = (reverse("mfa_activate_totp"), reverse("mfa_view_recovery_codes"))
        if request is None or request.path not in enrolment or not request.user.is_authenticated:
            return False
        signed_in = [r["at"] for r in get_authentication_records(request, request.user) if r.get("method") == "password"]
        return bool(signed_in) and time.time() - signed_in[-1] < app_settings.REAUTHENTICATION_TIMEOUT

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render allauth's message as it would, then hand it to the outbox instead of SMTP, so
        no web request waits on a mail server and a failed delivery is retried."""
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

    def encrypt(self, text: str) -> str:
        """TOTP keys and recovery-code seeds are stored encrypted (coalition.mfa_secrets)."""
        return mfa_secrets.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return mfa_secrets.decrypt(encrypted_text)

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """Those who must use two-factor authentication keep their last authenticator (recovery
        codes alone do not count: they go with it)."""
        if not permissions.requires_mfa(authenticator.user):
            return True
        return (
            Authenticator.objects.filter(user_id=authenticator.user_id)
            .exclude(pk=authenticator.pk)
            .exclude(type=Authenticator.Type.RECOVERY_CODES)
            .exists()
        )
