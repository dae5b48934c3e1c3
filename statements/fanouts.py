"""Fan-outs: a message to many recipients (a statement opened, an issue published, the deadline
passed, the signed text changed), written by a task, not by the request that caused it.

The service records the fan-out (`request`: one `FanOut` row, in its own transaction) and the task
`run_fan_out` is queued after commit. The task (`run`) locks the row, finds the recipients as they
are then, writes their outbox rows in bulk (`outbox.enqueue_many`: one INSERT per thousand rows)
and marks the fan-out done in the same transaction; delivery is queued after that commit, in
batches. If the broker cannot be reached at commit, or a worker dies mid-run, the fan-out stays
pending and the outbox sweep (`pending_ids`, run by `tasks.deliver_pending`) queues it again; the
outbox rows' dedupe keys make a second run write nothing twice.
"""

import logging
import uuid
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from coalition import db
from coalition.queue import celery_task

from .models import FanOut

log = logging.getLogger(__name__)


def request(event: str, statement, *, publication=None, key: str | None = None) -> FanOut | None:
    """Record a fan-out of `event` about `statement` (and `publication`) in the caller's
    transaction, and queue its task after commit. `key` names it when it must happen once (an
    issue's release); without one, each call is a fan-out of its own (the messages' dedupe keys
    still tell nobody twice). Returns None if a fan-out with this key was recorded before."""
    fan_out = FanOut(key=key or f"{event}:{statement.pk}:{uuid.uuid4().hex}", event=event,
                     statement=statement, publication=publication)
    if not db.insert_new(fan_out):
        return None
    transaction.on_commit(partial(queue, fan_out.pk))
    return fan_out


def queue(fan_out_id: int) -> bool:
    """Queue the task of one fan-out. Never raises for a broker that cannot be reached: the
    fan-out waits for the sweep."""
    try:
        celery_task("statements.tasks.run_fan_out").apply_async((fan_out_id,))
    except Exception:  # noqa: BLE001  (the broker is down or unreachable; the sweep runs it)
        log.warning("Could not queue fan-out %s; the outbox sweep will run it.", fan_out_id, exc_info=True)
        return False
    return True


def run(fan_out_id: int, writers: dict) -> int | None:
    """Write the outbox rows of one fan-out, in one transaction with marking it done, by the
    function `writers` gives for its event (`notifications.FAN_OUT_WRITERS`: notifications records
    its fan-outs through this module, so this one does not import it). Returns how many rows were
    written, or None if it was done already or another worker is running it."""
    with transaction.atomic():
        fan_out = (FanOut.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("statement__coalition", "statement__signed_revision",
                                   "publication__revision")
                   .filter(pk=fan_out_id, done_at__isnull=True).first())
        if fan_out is None:
            return None
        written = writers[fan_out.event](fan_out)
        fan_out.done_at, fan_out.messages = timezone.now(), written
        fan_out.save(update_fields=["done_at", "messages"])
    return written


def pending_ids(limit: int = 1000) -> list[int]:
    """Fan-outs not done that were recorded more than OUTBOX_SWEEP_GRACE_SECONDS ago (a younger
    one is still in the hands of the task queued at its commit)."""
    recorded_before = timezone.now() - timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)
    pending = FanOut.objects.filter(done_at__isnull=True, created_at__lte=recorded_before).order_by("id")
    return list(pending.values_list("id", flat=True)[:limit])
