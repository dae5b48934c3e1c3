"""The append-only, hash-chained audit log.

Every event stores the hash of the event before it and its own hash over its content, so changing,
removing or inserting a row anywhere breaks the chain from that point on; `verify()` (and
`manage.py verify_audit`) walks the chain and reports the first broken link.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timezone as dt_timezone

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Model

from .models import AuditEvent

GENESIS = "0" * 64
# Any constant works; it only has to be the same for every process that appends.
_CHAIN_LOCK_ID = 5_000_001


def _canonical(data: dict) -> dict:
    """The JSON form of `data`, as it will read back from the database."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False))


def compute_hash(event: AuditEvent) -> str:
    content = {
        "previous": event.previous_hash,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "data": event.data,
        "at": event.created_at.astimezone(dt_timezone.utc).isoformat(timespec="microseconds"),
    }
    payload = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def _lock_chain() -> None:
    # SQLite's IMMEDIATE transactions already serialise writers; PostgreSQL needs a lock so two
    # transactions never both append after the same event.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_ID])


def record(actor, action: str, obj: Model | None = None, **data) -> AuditEvent:
    """Append one event, in the caller's transaction. `actor` may be None for the system.

    The chain's lock is held until that transaction ends, so a service appends its event last."""
    # No savepoint: an event that cannot be written must undo the caller's whole transaction.
    with transaction.atomic(savepoint=False):
        _lock_chain()
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            actor=actor if getattr(actor, "pk", None) else None,
            actor_label=getattr(actor, "email", "") or "system",
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            object_repr=str(obj)[:300] if obj is not None else "",
            data=_canonical(data),
            previous_hash=last or GENESIS,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        return event


def events_for(obj: Model):
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))


@dataclass
class ChainReport:
    intact: bool
    count: int
    broken_event_id: int | None = None
    reason: str = ""


def verify() -> ChainReport:
    """Walk the whole chain in order; stop at the first event that does not fit."""
    previous = GENESIS
    count = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.previous_hash != previous:
            return ChainReport(False, count, event.pk, "it does not follow the event before it")
        if compute_hash(event) != event.hash:
            return ChainReport(False, count, event.pk, "its content does not match its hash")
        previous = event.hash
        count += 1
    return ChainReport(True, count)
