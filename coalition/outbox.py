"""The outbox: writing messages, delivering them, and what coordinators see when delivery fails.

Writing: `enqueue()` is called inside the transaction of the event that causes a message. Delivery
is queued with `transaction.on_commit`, so a rolled-back event sends nothing; inside `batched()`
the rows written are queued together after commit, one task per OUTBOX_BATCH_SIZE rows, so a
fan-out to thousands of recipients opens one SMTP connection per batch, not one per message.
`enqueue_many()` writes a fan-out's rows in bulk (one INSERT per thousand rows, each language
rendered once), in the task of a fan-out (`statements.fanouts`), not in the request.

Delivering: `deliver_batch()` claims each row in a transaction of its own (a row lock, skipped by
any other worker), sends it and records the result before moving on. A row already sent is never
sent again, and a worker killed mid-batch leaves only the message it was sending at that moment
unrecorded: the next attempt sends it again with the same Message-ID (SMTP allows no better).
A failed attempt moves the row's `due_at` on by an exponential backoff; the periodic sweep
(`pending_ids()`, run by beat) picks it up when due, so no retry waits in Redis as a countdown.
After OUTBOX_MAX_ATTEMPTS, or at once on a permanent (5xx) refusal, the row is marked failed and
shown to the coalition's coordinators, who can try it again.

If the broker cannot be reached when a row is queued, the error is logged and the request goes
on: the row is in the database and the sweep delivers it.
"""

import hashlib
import logging
import smtplib
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from functools import partial

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from . import audit, db, permissions, time_zones
from . import unsubscribe as unsubscribe_links
from .models import Coalition, EmailOptOut, OutboundEmail
from .queue import celery_task

log = logging.getLogger(__name__)

# How many rows one sweep queues at most; the next sweep, a minute later, takes the rest.
SWEEP_LIMIT = 5000
# An unsent row due this long ago has no worker taking care of it: coordinators see it as delayed.
DELAYED_AFTER = timedelta(minutes=15)


def _mail_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "localhost"


def message_id_for(dedupe_key: str, domain: str | None = None) -> str:
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain or _mail_domain()}>"


def render_message(template: str, context: dict, language: str, time_zone: str = "") -> tuple[str, str, str]:
    """Render `templates/email/<template>_subject.txt`, `_message.txt` and `_message.html`, in
    `language`, with times in the site's zone and also in `time_zone` (the recipient's, if they
    chose one): never in the zone of whoever's request caused the message."""
    context = {"site_url": settings.SITE_URL, "language": language, **context}
    zone = time_zone if time_zone in time_zones.available() else None
    with translation.override(language), timezone.override(zone or settings.TIME_ZONE):
        context = {**email_look(context), **context}
        subject = " ".join(render_plain_text(f"email/{template}_subject.txt", context).split())
        text = render_plain_text(f"email/{template}_message.txt", context).strip() + "\n"
        if context.get("unsubscribe_url"):
            text += "\n" + render_plain_text("email/_unsubscribe_footer.txt", context).strip() + "\n"
        html = render_to_string(f"email/{template}_message.html", context)
    return subject, text, html


# The emails' own blue, for emails about no coalition or of one that chose no accent colour.
SITE_ACCENT = "#1d4e89"


def email_look(context: dict) -> dict:
    """The look of an email about a coalition (its `coalition`, or its `statement`'s): the logo as
    an absolute address (`email_logo_url`, empty without one), its name and `accent`, the colour
    for the top rule and buttons (templates/email/base.html)."""
    coalition = (context.get("coalition") or getattr(context.get("statement"), "coalition", None)
                 or getattr(context.get("invitation"), "coalition", None))
    if not isinstance(coalition, Coalition):
        return {"accent": SITE_ACCENT, "email_logo_url": ""}
    return {"accent": coalition.accent or SITE_ACCENT, "email_coalition_name": coalition.display_name,
            "email_logo_url": settings.SITE_URL + coalition.logo_url() if coalition.logo else ""}


def render_plain_text(template: str, context: dict) -> str:
    """A subject or plain-text part: not HTML, so nothing is HTML-escaped (a title typed as
    "Rights & <freedoms>" reads so, not "Rights &amp; &lt;freedoms&gt;"). The HTML part is
    rendered with escaping as usual."""
    return get_template(template).template.render(Context(context, autoescape=False))


# Writing ------------------------------------------------------------------------------------


def unsubscribe_headers(recipient: str, kind: str) -> dict:
    """RFC 2369 / RFC 8058 headers: mail programs show an unsubscribe button and post to the link."""
    return unsubscribe_headers_for(unsubscribe_links.unsubscribe_url(recipient, kind))


def unsubscribe_headers_for(url: str) -> dict:
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _unwanted(kind: str, dedupe_key: str, recipient: str, fresh_key: bool = False) -> bool:
    return (
        (not fresh_key and OutboundEmail.objects.filter(dedupe_key=dedupe_key).exists())
        or unsubscribe_links.is_opted_out(recipient, kind)
    )


def enqueue(
    *,
    kind: str,
    dedupe_key: str,
    recipient: str,
    template: str,
    context: dict,
    language: str = "en",
    time_zone: str = "",
    due_at=None,
    coalition=None,
    fresh_key: bool = False,
) -> OutboundEmail | None:
    """Write one message to the outbox, in the caller's transaction; it is delivered after commit,
    or by the sweep once `due_at` comes for a message scheduled later.

    Returns None, writing nothing, if a message with this `dedupe_key` exists or the recipient
    unsubscribed from this kind. A bulk kind (`coalition.models.EmailOptOut.Kind`) gets the
    List-Unsubscribe headers, and its templates get `unsubscribe_url` to show in the footer.
    `fresh_key` says the key names something just made (a new token), so no message can have it
    yet: the lookup before rendering is skipped (the insert still refuses a repeat).
    """
    if _unwanted(kind, dedupe_key, recipient, fresh_key):
        return None
    headers = {}
    if kind in unsubscribe_links.BULK_KINDS:
        headers = unsubscribe_headers(recipient, kind)
        context = {**context, "unsubscribe_url": unsubscribe_links.unsubscribe_url(recipient, kind)}
    subject, text, html = render_message(template, context, language, time_zone)
    return _write(kind=kind, dedupe_key=dedupe_key, recipient=recipient, language=language, subject=subject,
                  body_text=text, body_html=html, headers=headers, due_at=due_at, coalition=coalition)


def enqueue_rendered(
    *,
    kind: str,
    dedupe_key: str,
    recipient: str,
    subject: str,
    text: str,
    html: str = "",
    language: str = "en",
    due_at=None,
    coalition=None,
) -> OutboundEmail | None:
    """Write a message rendered elsewhere (allauth's account emails); otherwise as `enqueue()`."""
    if _unwanted(kind, dedupe_key, recipient):
        return None
    headers = unsubscribe_headers(recipient, kind) if kind in unsubscribe_links.BULK_KINDS else {}
    return _write(kind=kind, dedupe_key=dedupe_key, recipient=recipient, language=language, subject=subject,
                  body_text=text, body_html=html, headers=headers, due_at=due_at, coalition=coalition)


def _write(*, dedupe_key: str, due_at, **fields) -> OutboundEmail | None:
    email = OutboundEmail(dedupe_key=dedupe_key, message_id=message_id_for(dedupe_key),
                          due_at=due_at or timezone.now(), **fields)
    # One statement: if a concurrent transaction wrote the same key first, nothing is written
    # and the caller's transaction goes on.
    if not db.insert_new(email):
        if OutboundEmail.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise IntegrityError("The outbox row could not be written.")
    if email.due_at <= timezone.now():
        _deliver_after_commit(email.pk)
    return email


@dataclass
class Recipient:
    """One recipient of a fan-out (`enqueue_many`): the address, the message's dedupe key, the
    language to write in, and what of the message's context is theirs alone. Recipients with the
    same language, `variant` and `time_zone` must have the same `context`: their message is
    rendered once. `time_zone` is the one they chose in their account ("": the site's).
    `links` are context values of their own that the templates print as they are (a link with a
    token): they are put into the rendered message afterwards (HTML-escaped in the HTML part)."""

    email: str
    dedupe_key: str
    language: str = "en"
    context: dict | None = None
    variant: object = None
    links: dict[str, str] | None = None
    time_zone: str = ""


def _mark(name: str) -> str:
    """Stands for a recipient's own link `name` while a message is rendered once for many."""
    return f"https://{name.replace('_', '-')}.invalid/0c5f9a1e-mark/"


# Rows written by one INSERT statement (twenty columns: well under PostgreSQL's 65,535 parameters).
WRITE_BATCH_SIZE = 1000


def enqueue_many(recipients, *, kind: str, template: str, context: dict, coalition=None,
                 batch_size: int | None = None) -> dict[str, int]:
    """Write one message per recipient to the outbox, in the caller's transaction, as `enqueue()`
    would write each (same subject, body, headers, language and Message-ID), but in bulk: the
    recipients who unsubscribed from `kind` and the dedupe keys written before are looked up once
    per batch, each language and variant is rendered once, and each batch of rows is one
    `INSERT … ON CONFLICT DO NOTHING`. Delivery is queued after commit in batches of
    OUTBOX_BATCH_SIZE. Returns the rows written, as {dedupe key: primary key} (none for a repeat,
    an opt-out or an address that turned these messages off)."""
    batch_size = batch_size or WRITE_BATCH_SIZE
    written: dict[str, int] = {}
    # What every batch shares: the renderings so far, the mail domain, the unsubscribe links' maker.
    shared = {"rendered": {}, "domain": _mail_domain(), "unsubscribe_url": unsubscribe_links.url_maker(kind)}
    batch: list[Recipient] = []
    for recipient in recipients:
        batch.append(recipient)
        if len(batch) >= batch_size:
            written.update(_write_many(batch, kind, template, context, coalition, shared))
            batch = []
    if batch:
        written.update(_write_many(batch, kind, template, context, coalition, shared))
    if written:
        transaction.on_commit(partial(dispatch, list(written.values())))
    return written


def _write_many(batch: list[Recipient], kind, template, context, coalition, shared: dict) -> dict[str, int]:
    bulk = kind in unsubscribe_links.BULK_KINDS
    opted_out = set()
    if bulk:
        addresses = {unsubscribe_links.normalise(r.email) for r in batch}
        opted_out = set(EmailOptOut.objects.filter(kind=kind, email__in=addresses).values_list("email", flat=True))
    keys = {r.dedupe_key for r in batch}
    known = set(OutboundEmail.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    now, rendered = timezone.now(), shared["rendered"]
    rows = []
    for recipient in batch:
        if recipient.dedupe_key in known or unsubscribe_links.normalise(recipient.email) in opted_out:
            continue
        known.add(recipient.dedupe_key)  # a key twice in one fan-out is written once
        links = dict(recipient.links or {})
        headers = {}
        if bulk:
            links["unsubscribe_url"] = shared["unsubscribe_url"](recipient.email)
            headers = unsubscribe_headers_for(links["unsubscribe_url"])
        variant = (recipient.language, recipient.time_zone, recipient.variant, tuple(sorted(links)))
        if variant not in rendered:
            marks = {name: _mark(name) for name in links}
            rendered[variant] = render_message(template, {**context, **(recipient.context or {}), **marks},
                                               recipient.language, recipient.time_zone)
        subject, text, html = rendered[variant]
        for name, url in links.items():
            subject, text = subject.replace(_mark(name), url), text.replace(_mark(name), url)
            html = html.replace(_mark(name), escape(url))
        rows.append(OutboundEmail(
            kind=kind, dedupe_key=recipient.dedupe_key,
            message_id=message_id_for(recipient.dedupe_key, shared["domain"]), recipient=recipient.email,
            language=recipient.language, subject=subject, body_text=text,
            body_html=html, headers=headers, coalition=coalition, created_at=now, due_at=now))
    return {key: pk for pk, key in db.insert_many_new(rows, returning="dedupe_key")}


_batch: ContextVar[list[int] | None] = ContextVar("outbox_batch", default=None)


@contextmanager
def batched():
    """Queue the rows written inside the block together, after commit, in batches of
    OUTBOX_BATCH_SIZE: use it around a fan-out to many recipients."""
    ids: list[int] = []
    token = _batch.set(ids)
    try:
        yield
    finally:
        _batch.reset(token)
    if ids:
        transaction.on_commit(partial(dispatch, ids))


def _deliver_after_commit(email_id: int) -> None:
    collected = _batch.get()
    if collected is not None:
        collected.append(email_id)
    else:
        transaction.on_commit(partial(dispatch, [email_id]))


def _publish(task, *args) -> bool:
    try:
        task.apply_async(args)
    except Exception:  # noqa: BLE001  (the broker is down or unreachable; the row waits for the sweep)
        log.warning("Could not queue %s for %r; the outbox sweep will deliver it.", task.name, args[0], exc_info=True)
        return False
    return True


def dispatch(email_ids: list[int]) -> None:
    """Queue delivery: one task for one row, else one task per OUTBOX_BATCH_SIZE rows. Never
    raises for a broker that cannot be reached, and stops trying at the first failure."""
    if len(email_ids) == 1:
        _publish(celery_task("coalition.tasks.deliver_email"), email_ids[0])
        return
    size = max(1, settings.OUTBOX_BATCH_SIZE)
    for start in range(0, len(email_ids), size):
        if not _publish(celery_task("coalition.tasks.deliver_batch"), email_ids[start:start + size]):
            return


def pending_ids(limit: int = SWEEP_LIMIT) -> list[int]:
    """Rows the sweep queues: due, unsent and not given up on, and written more than
    OUTBOX_SWEEP_GRACE_SECONDS ago (a younger row is still in the hands of the task queued when it
    was written)."""
    now = timezone.now()
    written_before = now - timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)
    rows = OutboundEmail.objects.due(now).filter(created_at__lte=written_before).order_by("due_at", "id")
    return list(rows.values_list("id", flat=True)[:limit])


def drop_unsent_on_opt_out(sender, instance: EmailOptOut, created: bool, **kwargs) -> None:
    """Signal receiver: someone opted out of a kind of bulk message (the one-click link, or the
    preferences page). Messages of that kind to that address not sent yet (a reminder waiting
    for its time, a retry waiting out its backoff) are dropped with it, not sent afterwards."""
    if created:
        OutboundEmail.objects.unsent().filter(kind=instance.kind, recipient__iexact=instance.email).delete()


# Delivering ---------------------------------------------------------------------------------


def build_message(email: OutboundEmail, connection=None) -> mail.EmailMultiAlternatives:
    headers = {"Message-ID": email.message_id, **email.headers}
    message = mail.EmailMultiAlternatives(
        email.subject, email.body_text, settings.DEFAULT_FROM_EMAIL, [email.recipient],
        headers=headers, connection=connection,
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: OUTBOX_RETRY_BASE_SECONDS, doubled
    each time, at most OUTBOX_RETRY_MAX_SECONDS."""
    return min(settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), settings.OUTBOX_RETRY_MAX_SECONDS)


def _is_permanent(exc: Exception) -> bool:
    """A 5xx refusal of the recipient or the message: trying again would be refused again."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _message in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


def _connection_lost(exc: Exception) -> bool:
    """The connection is no use for the next message (as opposed to this message being refused)."""
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(code == 421 for code, _message in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


@dataclass
class Outcome:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0


def _claim(email_id: int) -> OutboundEmail | None:
    """Lock the row if it is still to be sent now; None if it was sent, given up on, is not due
    yet, or another worker holds it (and is sending it)."""
    return (
        OutboundEmail.objects.select_for_update(skip_locked=True)
        .filter(pk=email_id, sent_at__isnull=True, failed_at__isnull=True, due_at__lte=timezone.now())
        .first()
    )


def _record_sent(email: OutboundEmail, outcome: Outcome) -> None:
    email.attempts += 1
    email.last_attempt_at = email.sent_at = timezone.now()
    email.last_error = ""
    email.save(update_fields=["attempts", "last_attempt_at", "sent_at", "last_error"])
    outcome.sent += 1


def _record_failure(email: OutboundEmail, exc: Exception, outcome: Outcome) -> None:
    now = timezone.now()
    email.attempts += 1
    email.last_attempt_at = now
    email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if email.attempts >= settings.OUTBOX_MAX_ATTEMPTS or _is_permanent(exc):
        email.failed_at = now
        outcome.failed += 1
        log.error("Gave up on email %s after %s attempts: %s", email.pk, email.attempts, email.last_error)
    else:
        email.due_at = now + timedelta(seconds=backoff(email.attempts))
        outcome.retrying += 1
        log.warning("Email %s not delivered (attempt %s), next try at %s: %s",
                    email.pk, email.attempts, email.due_at, email.last_error)
    email.save(update_fields=["attempts", "last_attempt_at", "last_error", "failed_at", "due_at"])


def _open_connection():
    connection = mail.get_connection()
    try:
        connection.open()
    except Exception as exc:  # noqa: BLE001  (recorded on each row of the batch, then retried)
        return None, exc
    return connection, None


def _close(connection) -> None:
    if connection is not None:
        try:
            connection.close()
        except Exception:  # noqa: BLE001  (a connection that is already gone is closed enough)
            log.debug("Closing the mail connection failed", exc_info=True)


def deliver_batch(email_ids: list[int]) -> Outcome:
    """Send these outbox rows over one SMTP connection; rows already sent, given up on, not yet
    due or being sent by another worker are skipped. Each row is claimed, sent and recorded in a
    transaction of its own. If the connection cannot be opened (or is lost twice), the rest of
    the batch is recorded as failed attempts and retried after the backoff."""
    outcome = Outcome()
    connection, broken, reconnects = None, None, 0
    try:
        for email_id in email_ids:
            with transaction.atomic():
                email = _claim(email_id)
                if email is None:
                    outcome.skipped += 1
                    continue
                if connection is None and broken is None:
                    connection, broken = _open_connection()
                if broken is not None:
                    _record_failure(email, broken, outcome)
                    continue
                try:
                    build_message(email, connection).send()
                except Exception as exc:  # noqa: BLE001  (every failure is recorded, then retried or given up)
                    _record_failure(email, exc, outcome)
                    if _connection_lost(exc):
                        _close(connection)
                        connection, reconnects = None, reconnects + 1
                        broken = exc if reconnects > 1 else None
                else:
                    _record_sent(email, outcome)
    finally:
        _close(connection)
    return outcome


def deliver(email_id: int) -> bool:
    """Send one outbox row unless it was sent already; True if it was sent now."""
    return deliver_batch([email_id]).sent == 1


# What coordinators see ----------------------------------------------------------------------


def kind_label(kind: str) -> str:
    """The words for a kind of message, for people; the code itself for a kind without words."""
    labels = {**dict(EmailOptOut.Kind.choices), "invitation": _("Invitation to join"),
              "signature_confirmation": _("Link to confirm an individual's signature"),
              "signature_already_signed": _("Notice to an individual who signed again"),
              "subscription_confirmation": _("Link to confirm a subscription"),
              "signing_authority": _("Notice of a change to someone's signing authority")}
    return str(labels.get(kind, kind))


def failed_for(coalition):
    """Messages about `coalition` that delivery gave up on, newest first."""
    return OutboundEmail.objects.filter(coalition=coalition, failed_at__isnull=False).order_by("-failed_at", "-id")


def delayed_for(coalition, now=None):
    """Messages about `coalition` still unsent that were refused at least once, or have waited
    longer than they should (no worker is delivering)."""
    now = now or timezone.now()
    return (
        OutboundEmail.objects.unsent()
        .filter(coalition=coalition)
        .filter(Q(attempts__gt=0) | Q(due_at__lte=now - DELAYED_AFTER))
        .order_by("due_at", "id")
    )


@transaction.atomic
def retry(email: OutboundEmail, *, by) -> OutboundEmail:
    """A coordinator has a failed (or delayed) message tried again now, with a fresh count of
    attempts."""
    permissions.require(email.coalition_id is not None and permissions.can_view_outbox(by, email.coalition))
    email = OutboundEmail.objects.select_for_update().get(pk=email.pk)
    if email.sent_at:
        raise ValidationError(_("This message has been sent already."))
    if body_dropped(email):
        raise ValidationError(_(
            "The text of this message was deleted when it had been given up on for longer than the "
            "retention period; it cannot be sent again."))
    email.failed_at, email.attempts, email.due_at = None, 0, timezone.now()
    email.save(update_fields=["failed_at", "attempts", "due_at"])
    audit.record(by, "email.retried", email, kind=email.kind, last_error=email.last_error)
    _deliver_after_commit(email.pk)
    return email


# Retention ------------------------------------------------------------------------------------

# What a message's links live in: its text, and the List-Unsubscribe headers.
BODY_FIELDS = {"body_text": "", "body_html": "", "headers": {}}


def body_dropped(email: OutboundEmail) -> bool:
    """Its text was deleted after the retention period (every message written has a text)."""
    return not email.body_text


def drop_old_bodies(now=None, batch_size: int = 2000) -> int:
    """Delete the text, HTML and headers (with their reset, invitation, confirmation and
    unsubscribe links) of messages sent, or given up on, more than OUTBOX_BODY_RETENTION_DAYS ago;
    the row keeps its recipient, subject, kind and times. A message still to be sent (or retried)
    keeps its text. Idempotent; returns how many messages lost their text."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.OUTBOX_BODY_RETENTION_DAYS)
    expired = (OutboundEmail.objects.exclude(body_text="")
               .filter(Q(sent_at__lte=cutoff) | Q(sent_at__isnull=True, failed_at__lte=cutoff)))
    dropped = 0
    while ids := list(expired.values_list("pk", flat=True)[:batch_size]):
        # Rows that were retried since they were read keep their text.
        updated = (OutboundEmail.objects.filter(pk__in=ids)
                   .filter(Q(sent_at__lte=cutoff) | Q(sent_at__isnull=True, failed_at__lte=cutoff))
                   .update(**BODY_FIELDS))
        if not updated:
            break
        dropped += updated
    return dropped
