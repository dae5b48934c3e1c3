from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class CoalitionConfig(AppConfig):
    name = "coalition"
    verbose_name = _("Coalition")

    def ready(self):
        # Imported once the app registry is ready: these modules import the models.
        from allauth.account.signals import email_changed

        from . import outbox, services
        from .models import EmailOptOut

        # Email preferences follow a person to the address they make their primary one.
        email_changed.connect(services.primary_email_changed, dispatch_uid="carry-opt-outs")
        # An opt-out also drops the messages of that kind still waiting to go to the address.
        post_save.connect(outbox.drop_unsent_on_opt_out, sender=EmailOptOut, dispatch_uid="outbox-opt-out")
