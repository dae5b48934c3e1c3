"""Writing messages to the outbox and delivering them.

`enqueue()` is called inside the transaction of the event that causes a message; delivery is
scheduled with `transaction.on_commit`, so a rolled-back event sends nothing. `deliver()` is
idempotent: a row already sent is skipped.
"""

import hashlib
import logging
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import OutboundEmail

log = logging.getLogger(__name__)


def _mail_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "localhost"


def message_id_for(dedupe_key: str) -> str:
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]
    return f"<{digest}@{_mail_domain()}>"


def render_message(template: str, context: dict, language: str) -> tuple[str, str, str]:
    """Render `templates/email/<template>_subject.txt`, `_message.txt` and `_message.html`."""
    context = {"site_url": settings.SITE_URL, "language": language, **context}
    with translation.override(language):
        subject = " ".join(render_to_string(f"email/{template}_subject.txt", context).split())
        text = render_to_string(f"email/{template}_message.txt", context).strip() + "\n"
        html = render_to_string(f"email/{template}_message.html", context)
    return subject, text, html


def enqueue(
    *,
    kind: str,
    dedupe_key: str,
    recipient: str,
    template: str,
    context: dict,
    language: str = "en",
    headers: dict | None = None,
    due_at=None,
    coalition=None,
) -> OutboundEmail | None:
    """Write one message to the outbox; return None if a message with this key already exists."""
    if OutboundEmail.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    subject, text, html = render_message(template, context, language)
    email = OutboundEmail.objects.create(
        kind=kind,
        coalition=coalition,
        dedupe_key=dedupe_key,
        recipient=recipient,
        language=language,
        subject=subject,
        body_text=text,
        body_html=html,
        headers=headers or {},
        message_id=message_id_for(dedupe_key),
        due_at=due_at or timezone.now(),
    )
    if email.due_at <= timezone.now():
        _schedule_delivery(email.pk)
    return email


def enqueue_rendered(*, kind: str, dedupe_key: str, recipient: str, subject: str, text: str, html: str = "", language: str = "en") -> OutboundEmail:
    """Write a message rendered elsewhere (allauth's account emails) to the outbox."""
    email = OutboundEmail.objects.create(
        kind=kind,
        dedupe_key=dedupe_key,
        recipient=recipient,
        language=language,
        subject=subject,
        body_text=text,
        body_html=html,
        message_id=message_id_for(dedupe_key),
    )
    _schedule_delivery(email.pk)
    return email


def _schedule_delivery(email_id: int) -> None:
    from .tasks import deliver_email

    transaction.on_commit(lambda: deliver_email.delay(email_id))


def build_message(email: OutboundEmail, connection=None) -> EmailMultiAlternatives:
    headers = {"Message-ID": email.message_id, **email.headers}
    message = EmailMultiAlternatives(
        email.subject, email.body_text, settings.DEFAULT_FROM_EMAIL, [email.recipient],
        headers=headers, connection=connection,
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


class DeliveryFailed(Exception):
    """Sending failed in a way worth retrying (the SMTP server refused or could not be reached)."""


def deliver(email_id: int) -> bool:
    """Send one outbox row unless it was already sent. Returns True if it was sent now.

    The row is locked while sending so two workers never send it at once. If the process dies
    after the SMTP server accepted the message but before the commit, the next attempt sends it
    again with the same Message-ID; SMTP allows no better. A failure is recorded (and committed)
    before `DeliveryFailed` is raised for the task to retry.
    """
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.sent_at or email.failed_at:
            return False
        email.attempts += 1
        email.last_attempt_at = timezone.now()
        try:
            build_message(email).send()
        except Exception as exc:  # noqa: BLE001  (every failure is recorded, then retried)
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                email.failed_at = timezone.now()
                log.error("Gave up on email %s after %s attempts: %s", email.pk, email.attempts, email.last_error)
            email.save(update_fields=["attempts", "last_attempt_at", "last_error", "failed_at"])
        else:
            email.sent_at = timezone.now()
            email.last_error = ""
            email.save(update_fields=["attempts", "last_attempt_at", "last_error", "sent_at"])
            return True
    if email.failed_at:
        return False
    raise DeliveryFailed(email.last_error)


def pending_ids(limit: int = 500) -> list[int]:
    return list(OutboundEmail.objects.due().order_by("id").values_list("id", flat=True)[:limit])
