"""Thin Celery tasks: take a primary key, call a service, retry on transient errors."""

from celery import shared_task

from . import outbox


def backoff(retries: int) -> int:
    """Seconds before retry number `retries + 1`: 10 s, 20 s, 40 s ... capped at an hour."""
    return min(10 * 2**retries, 3600)


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_email(self, email_id: int) -> bool:
    """Deliver one outbox row; idempotent (a sent row is skipped).

    The row itself counts attempts and gives up after OUTBOX_MAX_ATTEMPTS, so the task retries
    without a bound of its own.
    """
    try:
        return outbox.deliver(email_id)
    except outbox.DeliveryFailed as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@shared_task(acks_late=True)
def deliver_pending() -> int:
    """Periodic sweep: enqueue delivery of every due row still unsent (a worker died, Redis was
    down when the event happened, or the row was scheduled for later)."""
    ids = outbox.pending_ids()
    for email_id in ids:
        deliver_email.delay(email_id)
    return len(ids)


@shared_task
def ping(value: str) -> str:
    """Answers with what it was given: lets operators (and a test) see that a worker runs."""
    return f"pong: {value}"
