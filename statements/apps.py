from django.apps import AppConfig
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class StatementsConfig(AppConfig):
    name = "statements"
    verbose_name = _("Statements")

    def ready(self):
        # Imported once the app registry is ready: these modules import the models.
        from coalition import audit
        from coalition.models import Coalition, EmailOptOut, Membership, Organisation

        from . import anchors, caching
        from .models import Comment, Publication, Revision, Signature, Statement
        from .services import subscriptions

        # Anything public pages show: a change starts a new generation of cached pages.
        for model in (Statement, Revision, Signature, Publication, Organisation, Membership, Coalition, Comment):
            post_save.connect(caching.public_pages_changed, sender=model,
                              dispatch_uid=f"public-pages-{model._meta.label_lower}")
        # Comments are deleted only in the admin; the signed-in page's stored list must lose them too.
        post_delete.connect(caching.public_pages_changed, sender=Comment, dispatch_uid="public-pages-comment-deleted")
        # A statement's row is stored with its texts' authors, shown by name or address.
        post_save.connect(caching.author_renamed, sender=get_user_model(), dispatch_uid="statement-authors")
        # Unsubscribing from publications ends a public subscription.
        post_save.connect(subscriptions.end_on_opt_out, sender=EmailOptOut, dispatch_uid="subscriber-opt-out")
        # The audit log is checked against the anchors publications recorded (coalition sits below).
        audit.register_anchors(anchors.for_audit)
