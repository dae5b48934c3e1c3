"""What the coalition says: statements, their revisions and signatures, and the outbox."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboundEmailQuerySet(models.QuerySet):
    def unsent(self):
        return self.filter(sent_at__isnull=True, failed_at__isnull=True)

    def due(self, now=None):
        return self.unsent().filter(due_at__lte=now or timezone.now())


class OutboundEmail(models.Model):
    """The outbox: one row per message to send, written in the transaction of the event behind it.

    Celery delivers rows; `dedupe_key` makes writing the same message twice impossible and
    `sent_at` makes sending it twice a no-op. `message_id` is stable, so a resend after a crash
    can be recognised by the receiving side.
    """

    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    # The coalition the message is about, so its coordinators see failed deliveries; empty for
    # account messages (password reset, email confirmation).
    coalition = models.ForeignKey(
        "coalition.Coalition", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dedupe_key = models.CharField(max_length=255, unique=True)
    recipient = models.EmailField(_("recipient"))
    language = models.CharField(_("language"), max_length=8, default="en")
    subject = models.CharField(_("subject"), max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), default=timezone.now, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    failed_at = models.DateTimeField(_("given up"), null=True, blank=True)

    objects = OutboundEmailQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        indexes = [
            models.Index(fields=["due_at"], condition=models.Q(sent_at__isnull=True, failed_at__isnull=True), name="outbox_unsent_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient}"
