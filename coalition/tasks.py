"""Thin Celery tasks of email delivery: take the outbox rows' primary keys, call the outbox."""

import logging

from celery import shared_task

from . import outbox

log = logging.getLogger(__name__)


# Delivery tasks keep no result (nothing reads it, and publishing a task that keeps one would
# also wait for the result store when Redis is down) and never retry through a countdown held in
# Redis: a failed attempt moves the row's `due_at` on, and the sweep (statements.tasks.deliver_pending)
# picks it up when due.


@shared_task(acks_late=True, ignore_result=True)
def deliver_email(email_id: int) -> None:
    """Deliver one outbox row; idempotent (a sent row is skipped, a row another worker is sending
    is left to it)."""
    outbox.deliver(email_id)


@shared_task(acks_late=True, ignore_result=True)
def deliver_batch(email_ids: list[int]) -> None:
    """Deliver a batch of outbox rows over one SMTP connection; idempotent like `deliver_email`."""
    outcome = outbox.deliver_batch(email_ids)
    log.info("Outbox batch of %s: %s", len(email_ids), outcome)
