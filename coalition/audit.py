"""The append-only, hash-chained audit log.

Every event stores the hash of the event before it and its own hash over its content, so changing,
removing or inserting a row anywhere breaks the chain from that point on; `verify()` (and
`manage.py verify_audit`) walks the chain and reports the first broken link.

A chain can still lose its tail unseen (the newest events deleted, which leaves no broken link), or
be rewritten from some point on with fresh hashes by someone who can write to the database. PostgreSQL
refuses both to the application (coalition/migrations/0004); against someone who can drop that
trigger, the chain's head is anchored outside the log: each published PDF prints the event number
and hash that were the head when it was made, and /transparency/ lists them for anyone to keep.
`verify()` checks the chain against every anchor (the anchored event exists, with that hash) and
against the events that must be there (a released publication's release). The statements app
provides those (`register_anchors`), since this module sits below it and knows nothing of it.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timezone as dt_timezone

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

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


def head() -> tuple[int, str] | None:
    """The newest event's id and hash (the chain's head), or None for an empty log."""
    return AuditEvent.objects.order_by("-id").values_list("id", "hash").first()


# Checking the chain against what was recorded outside it -----------------------------------------


@dataclass(frozen=True)
class Anchor:
    """The chain's head recorded outside the log: event `event_id` had `hash`. `label` says where
    it was recorded, for people ("issue 2 of “Title”")."""

    event_id: int
    hash: str
    label: str


@dataclass(frozen=True)
class Expected:
    """An event that must be in the log: one with this action and object whose data holds every
    item of `data`. `label` says why, for people."""

    action: str
    object_type: str
    object_id: str
    label: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """Something missing from the chain or changed in it, found by an anchor or an expected event.

    `kind`: "missing" (the anchored event and those before it back to `first_missing` are gone:
    the chain ends before it), "absent" (the anchored event is gone from inside the chain, in the
    gap of event numbers `first_missing` to `last_missing`), "altered" (the anchored event has
    another hash now) or "unrecorded" (an expected event is not in the log)."""

    kind: str
    label: str
    event_id: int | None = None
    first_missing: int | None = None
    anchored_hash: str = ""
    expected: str = ""  # for "unrecorded": which event, in words for machines
    last_missing: int | None = None

    @property
    def key(self) -> str:
        """The same for the same finding, whatever the language, and as the log goes on growing
        after it (an anchored event gone stays one finding, whether the chain ends before it or
        new events have been appended since)."""
        if self.kind == "unrecorded":
            return f"unrecorded:{self.expected}"
        return f"anchor:{self.event_id}:{self.anchored_hash}"

    def describe(self) -> str:
        """In the active language."""
        values = {"label": self.label, "event": self.event_id, "first": self.first_missing,
                  "last": self.last_missing, "hash": self.anchored_hash}
        if self.kind == "missing":
            if self.first_missing == self.event_id:
                return _("event %(event)s is missing: the chain ends before it, but %(label)s "
                         "recorded it as the head of the log (hash %(hash)s)") % values
            return _("events %(first)s to %(event)s are missing: the chain ends at event %(last)s, but "
                     "%(label)s recorded event %(event)s as the head of the log (hash %(hash)s)") % {
                **values, "last": self.first_missing - 1}
        if self.kind == "absent" and self.first_missing != self.last_missing:
            return _("events %(first)s to %(last)s are missing from the chain, among them event %(event)s, "
                     "which %(label)s recorded as the head of the log (hash %(hash)s)") % values
        if self.kind == "absent":
            return _("event %(event)s is missing from the chain, but %(label)s recorded it as the head "
                     "of the log (hash %(hash)s)") % values
        if self.kind == "altered":
            return _("event %(event)s has changed: %(label)s recorded it with hash %(hash)s") % values
        return _("an event is missing: %(label)s") % values


AnchorSource = Callable[[], Iterable[Anchor | Expected]]
_anchor_sources: list[AnchorSource] = []


def register_anchors(source: AnchorSource) -> None:
    """Let `verify()` check the chain against the anchors and expected events `source()` yields
    (an app above this module registers one in its `AppConfig.ready`)."""
    if source not in _anchor_sources:
        _anchor_sources.append(source)


def _registered() -> list[Anchor | Expected]:
    return [item for source in _anchor_sources for item in source()]


def _check_anchor(anchor: Anchor, stored: str | None, last_id: int) -> Finding | None:
    if stored == anchor.hash:
        return None
    values = {"label": anchor.label, "event_id": anchor.event_id, "anchored_hash": anchor.hash}
    if stored is not None:
        return Finding("altered", **values)
    if anchor.event_id > last_id:
        return Finding("missing", first_missing=last_id + 1, **values)
    before = AuditEvent.objects.filter(pk__lt=anchor.event_id).order_by("-pk").values_list("pk", flat=True).first()
    after = AuditEvent.objects.filter(pk__gt=anchor.event_id).order_by("pk").values_list("pk", flat=True).first()
    return Finding("absent", first_missing=(before or 0) + 1, last_missing=after - 1, **values)


def _stored_hashes(ids: list[int], batch: int = 2000) -> dict[int, str]:
    hashes: dict[int, str] = {}
    for at in range(0, len(ids), batch):
        hashes.update(AuditEvent.objects.filter(pk__in=ids[at:at + batch]).values_list("id", "hash"))
    return hashes


def _check_expected(expected: list[Expected]) -> list[Finding]:
    if not expected:
        return []
    present: dict[tuple, list[dict]] = {}
    actions = {e.action for e in expected}
    for row in AuditEvent.objects.filter(action__in=actions).values("action", "object_type", "object_id", "data"):
        present.setdefault((row["action"], row["object_type"], row["object_id"]), []).append(row["data"])
    findings = []
    for item in expected:
        found = present.get((item.action, item.object_type, item.object_id), [])
        if not any(all(data.get(k) == v for k, v in item.data.items()) for data in found):
            findings.append(Finding("unrecorded", label=item.label, expected=f"{item.action} {item.object_type} "
                                    f"{item.object_id} {json.dumps(item.data, sort_keys=True)}"))
    return findings


def check_anchors(items: Iterable[Anchor | Expected]) -> list[Finding]:
    """What the log lacks, or has changed, against `items`: anchors first, by event, then the
    expected events."""
    items = list(items)
    last_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    anchors = sorted((i for i in items if isinstance(i, Anchor)), key=lambda a: a.event_id)
    stored = _stored_hashes(sorted({a.event_id for a in anchors}))
    findings = [f for f in (_check_anchor(a, stored.get(a.event_id), last_id) for a in anchors) if f is not None]
    return findings + _check_expected([i for i in items if isinstance(i, Expected)])


@dataclass
class ChainReport:
    """`intact` only if the chain has no broken link and nothing is missing against the anchors.
    `broken_event_id` and `reason` name the first broken link; `findings` what the anchors and
    expected events found; `anchors` how many anchors and expected events were checked."""

    intact: bool
    count: int
    broken_event_id: int | None = None
    reason: str = ""
    findings: list[Finding] = field(default_factory=list)
    anchors: int = 0

    @property
    def key(self) -> str:
        """The same for the same failure, found again: what makes an alert about it once only."""
        parts = ([f"broken:{self.broken_event_id}"] if self.broken_event_id else []) + [f.key for f in self.findings]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def _walk() -> tuple[int, int | None, str]:
    """Walk the whole chain in order; stop at the first event that does not fit."""
    previous = GENESIS
    count = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.previous_hash != previous:
            return count, event.pk, "it does not follow the event before it"
        if compute_hash(event) != event.hash:
            return count, event.pk, "its content does not match its hash"
        previous = event.hash
        count += 1
    return count, None, ""


def verify(anchors: Iterable[Anchor | Expected] | None = None) -> ChainReport:
    """Walk the chain and report its first broken link, then check it against `anchors` (by
    default, every anchor and expected event the registered sources yield)."""
    count, broken, reason = _walk()
    items = list(_registered() if anchors is None else anchors)
    findings = check_anchors(items)
    return ChainReport(broken is None and not findings, count, broken, reason, findings, len(items))
