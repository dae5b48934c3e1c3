"""Thin Celery tasks: take a primary key, call a service, retry on transient errors."""

import logging

from celery import shared_task
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from coalition import audit, outbox

from . import fanouts, notifications, services
from .models import Statement
from .services import privacy, publishing

log = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def deliver_pending() -> int:
    """Periodic sweep (beat, every OUTBOX_SWEEP_SECONDS): queue every due row still unsent, in
    batches. It delivers what a dead worker or a Redis outage left behind, retries after their
    backoff, and messages scheduled for later; and it queues again every fan-out left unfinished
    (its task lost, or the broker down when it was recorded)."""
    for fan_out_id in fanouts.pending_ids():
        if not fanouts.queue(fan_out_id):
            break
    ids = outbox.pending_ids()
    outbox.dispatch(ids)
    return len(ids)


@shared_task(acks_late=True, ignore_result=True)
def run_fan_out(fan_out_id: int) -> None:
    """Write the outbox rows of a message to many recipients (`statements.fanouts`) in bulk, then
    queue their delivery in batches. Idempotent: a fan-out done is skipped, and a second run of one
    cut short writes only the rows still missing."""
    written = fanouts.run(fan_out_id, notifications.FAN_OUT_WRITERS)
    if written is not None:
        log.info("Fan-out %s wrote %s message(s).", fan_out_id, written)


@shared_task
def ping(value: str) -> str:
    """Answers with what it was given: lets operators (and a test) see that a worker runs."""
    return f"pong: {value}"


@shared_task(acks_late=True, ignore_result=True)
def close_signing_at_deadlines() -> int:
    """Periodic (beat, every DEADLINE_SWEEP_SECONDS): close, through the close service, every
    statement still open whose signing deadline has passed. Idempotent: a statement closed in the
    meantime (by a coordinator, or by another run) is left as it is. Returns how many it closed."""
    closed = 0
    due = Statement.objects.filter(status=Statement.Status.OPEN, deadline__lte=timezone.now())
    for statement in due.only("pk"):
        try:
            services.close_signing(statement, by=None)
        except ValidationError:
            continue
        closed += 1
    if closed:
        log.info("Closed signing of %s statement(s) at their deadline.", closed)
    return closed


@shared_task(acks_late=True, ignore_result=True)
def purge_unconfirmed_signatures() -> int:
    """Periodic (beat, hourly): erase individual signatures never confirmed whose link expired
    more than UNCONFIRMED_SIGNATURE_DAYS ago. Idempotent: an erased signature is skipped."""
    erased = privacy.purge_unconfirmed()
    if erased:
        log.info("Erased %s unconfirmed individual signature(s).", erased)
    return erased


@shared_task(acks_late=True, ignore_result=True)
def send_erasure_link(email: str, language: str) -> None:
    """Look up the signatures of an address someone asked to erase and, if there are any, email
    it the link (`privacy.send_erasure_link`). Run after the request so that its time does not
    tell whether the address signed. Running it twice sends a second link, as asking twice would."""
    privacy.send_erasure_link(email, language=language)


@shared_task(acks_late=True, ignore_result=True)
def drop_old_email_bodies() -> int:
    """Periodic (beat, hourly): delete the text of messages sent, or given up on, more than
    OUTBOX_BODY_RETENTION_DAYS ago (their links with it). Idempotent. Returns how many."""
    dropped = outbox.drop_old_bodies()
    if dropped:
        log.info("Deleted the text of %s message(s) past their retention.", dropped)
    return dropped


@shared_task(acks_late=True, ignore_result=True)
def send_signature_reminders() -> int:
    """Periodic (beat, every REMINDER_SWEEP_SECONDS): remind organisations that have not answered
    a statement whose deadline, stored in the database, is SIGNATURE_REMINDER_DAYS away or less.
    Idempotent: each organisation is reminded once before its deadline, and again only
    before a deadline moved, at least SIGNATURE_REMINDER_DAYS after its last reminder. Returns how many messages."""
    written = notifications.remind_before_deadlines()
    if written:
        log.info("Wrote %s signature reminder(s).", written)
    return written


@shared_task(acks_late=True, ignore_result=True)
def check_audit_log() -> bool:
    """Periodic (beat, every AUDIT_CHECK_SECONDS): check the audit log's chain and its anchors
    (`manage.py verify_audit`); when it fails, email the site operators, once per failure found.
    Returns whether the log is intact."""
    report = audit.verify()
    if not report.intact:
        log.error("The audit log check failed: chain broken at %s (%s); %s finding(s): %s",
                  report.broken_event_id, report.reason, len(report.findings),
                  "; ".join(str(f.describe()) for f in report.findings))
        with transaction.atomic():
            notifications.audit_check_failed(report)
    return report.intact


@shared_task(acks_late=True, ignore_result=True)
def prepare_publication(publication_id: int) -> None:
    """Render, sign and store one issue's PDF; idempotent (an issue no longer pending is left
    alone). A failure marks the issue failed with its reason; a coordinator tries it again."""
    publishing.prepare(publication_id)


@shared_task(acks_late=True, ignore_result=True)
def release_due_publications() -> int:
    """Periodic (beat, every EMBARGO_SWEEP_SECONDS): make public every ready issue whose embargo
    time, stored in the database, has passed, and tell its signatories. Idempotent."""
    released = publishing.release_due()
    if released:
        log.info("Released %s embargoed publication(s).", released)
    return released


@shared_task(acks_late=True, ignore_result=True)
def prepare_stale_publications() -> int:
    """Periodic (beat, every EMBARGO_SWEEP_SECONDS): queue again every issue left pending longer
    than PUBLICATION_STALE_SECONDS (its task was lost). Returns how many."""
    ids = publishing.pending_ids()
    for publication_id in ids:
        prepare_publication.delay(publication_id)
    return len(ids)
