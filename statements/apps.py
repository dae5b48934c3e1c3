from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class StatementsConfig(AppConfig):
    name = "statements"
    verbose_name = _("Statements")

    def ready(self):
        from coalition import audit
        from coalition.models import Coalition, EmailOptOut, Membership, Organisation

        from . import anchors, caching, subscriptions
        from .models import Publication, Revision, Signature, Statement

        # Anything public pages show: a change starts a new generation of cached pages.
        for model in (Statement, Revision, Signature, Publication, Organisation, Membership, Coalition):
            post_save.connect(caching.public_pages_changed, sender=model,
                              dispatch_uid=f"public-pages-{model._meta.label_lower}")
        # Unsubscribing from publications ends a public subscription.
        post_save.connect(subscriptions.end_on_opt_out, sender=EmailOptOut, dispatch_uid="subscriber-opt-out")
        # The audit log is checked against the anchors publications recorded (coalition sits below).
        audit.register_anchors(anchors.for_audit)
