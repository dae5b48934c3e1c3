from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoalitionConfig(AppConfig):
    name = "coalition"
    verbose_name = _("Coalition")

    def ready(self):
        from allauth.account.signals import email_changed

        from . import services

        # Email preferences follow a person to the address they make their primary one.
        email_changed.connect(services.primary_email_changed, dispatch_uid="carry-opt-outs")
