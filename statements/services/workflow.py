"""The statement's workflow: opening it for signature, closing, reopening, moving the deadline,
publishing and withdrawing. One function per thing a person does.

Each runs in one transaction, asks `coalition.permissions` whether the person may, asks the state
table (`statements.workflow`) whether the statement's state allows it, and writes one audit event
on the statement (so a statement's history is `audit.events_for(statement)`).
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coalition import audit, names, permissions
from coalition.models import User

from .. import notifications, text, workflow
from ..models import Statement
from ..workflow import Transition
from . import publishing


def _locked(statement: Statement) -> Statement:
    return Statement.objects.select_for_update().select_related("coalition").get(pk=statement.pk)


@transaction.atomic
def open_for_signature(statement: Statement, *, by: User, deadline: datetime | None,
                       allows_individuals: bool | None = None) -> Statement:
    """A coordinator opens a draft for signature: its current revision becomes the text to be
    signed, the signing deadline (if any) is fixed, and, when `allows_individuals` is given,
    whether individuals may sign too (else the drafter's choice stands)."""
    statement = _locked(statement)
    permissions.require(permissions.can_open(by, statement))
    statement.status = workflow.check(statement, Transition.OPEN)
    _future_deadline(deadline)
    statement.signed_revision = statement.current_revision
    statement.deadline, statement.opened_at = deadline, timezone.now()
    if allows_individuals is not None:
        statement.allows_individuals = allows_individuals
    statement.save(update_fields=["status", "signed_revision", "deadline", "opened_at", "allows_individuals"])
    audit.record(by, "statement.opened", statement, revision=statement.signed_revision.number,
                 sha256=statement.signed_revision.sha256, deadline=deadline,
                 allows_individuals=statement.allows_individuals)
    notifications.statement_opened(statement)
    return statement


@transaction.atomic
def close_signing(statement: Statement, *, by: User | None) -> Statement:
    """A coordinator stops signing; or, with `by=None`, the site does once the deadline has passed
    (the periodic task). Closing a statement that is no longer open raises ValidationError."""
    statement = _locked(statement)
    if by is None:
        if statement.deadline is None or statement.deadline > timezone.now():
            raise ValidationError(_("Signing closes by itself only once its deadline has passed."), code="deadline")
    else:
        permissions.require(permissions.can_close(by, statement))
    statement.status = workflow.check(statement, Transition.CLOSE)
    statement.closed_at = timezone.now()
    statement.save(update_fields=["status", "closed_at"])
    audit.record(by, "statement.closed", statement, revision=statement.signed_revision.number,
                 **({"at_deadline": True} if by is None else {}))
    if by is None:
        notifications.deadline_passed(statement)
    return statement


def _future_deadline(deadline: datetime | None) -> None:
    if deadline is not None and deadline <= timezone.now():
        raise ValidationError(_("The signing deadline must be in the future."), code="deadline")


@transaction.atomic
def reopen(statement: Statement, *, by: User, deadline: datetime | None) -> Statement:
    """A coordinator reopens a closed statement, before it is published: signing starts again on
    the same text, signatures and answers kept. A new `deadline` replaces the old one (None keeps
    it); one is needed if the old deadline has passed, or the deadline sweep would close it again
    at once. Those told when it opened are told it is open again."""
    statement = _locked(statement)
    permissions.require(permissions.can_reopen(by, statement))
    statement.status = workflow.check(statement, Transition.REOPEN)
    _future_deadline(deadline)
    previous, closed_at = statement.deadline, statement.closed_at or timezone.now()
    statement.deadline = deadline or previous
    if statement.deadline is not None and statement.deadline <= timezone.now():
        raise ValidationError(_("The signing deadline has passed: give a new one to reopen signing."),
                              code="deadline_passed")
    statement.closed_at = None
    statement.save(update_fields=["status", "deadline", "closed_at"])
    audit.record(by, "statement.reopened", statement, revision=statement.signed_revision.number,
                 deadline=statement.deadline, previous_deadline=previous, closed_at=closed_at)
    notifications.statement_reopened(statement, closed_at=closed_at)
    return statement


@transaction.atomic
def move_deadline(statement: Statement, *, by: User, deadline: datetime) -> Statement:
    """A coordinator moves the signing deadline of an open statement (earlier or later, never
    into the past); the deadline sweep and the reminders read the new one. Those told when it
    opened get the new deadline."""
    statement = _locked(statement)
    permissions.require(permissions.can_move_deadline(by, statement))
    if statement.status != Statement.Status.OPEN:
        raise ValidationError(_("The deadline can be moved only while the statement is open for signature."),
                              code="not_open")
    if deadline is None:
        raise ValidationError(_("Give the new signing deadline."), code="deadline")
    _future_deadline(deadline)
    previous = statement.deadline
    if previous == deadline:
        raise ValidationError(_("This is already the signing deadline."), code="unchanged")
    statement.deadline = deadline
    statement.save(update_fields=["deadline"])
    audit.record(by, "statement.deadline_moved", statement, deadline=deadline, previous_deadline=previous)
    notifications.deadline_moved(statement, previous=previous)
    return statement


@transaction.atomic
def publish(statement: Statement, *, by: User, public_from: datetime | None = None, place: str = "") -> Statement:
    """A coordinator publishes a closed statement: issue 1 is written (pending) and its signed PDF
    made by a task after commit. With `public_from` (an embargo) the PDF is made at once, but the
    statement and its PDF become public only at that time; until then only member staff see them.
    `place`, in the statement's language, is printed before the date (else the coalition's place)."""
    statement = _locked(statement)
    permissions.require(permissions.can_publish(by, statement))
    statement.status = workflow.check(statement, Transition.PUBLISH)
    if public_from is not None and public_from <= timezone.now():
        raise ValidationError(_("The release time must be in the future."), code="public_from")
    statement.published_at = None if public_from else timezone.now()
    place = text.normalise(place)
    if place and place != statement.place_in(statement.primary_language):
        statement.places = names.clean_places({**statement.places, statement.primary_language: place})
    statement.save(update_fields=["status", "published_at", "places"])
    publication = publishing.start_issue(statement, by=by, public_from=public_from)
    audit.record(by, "statement.published", statement, revision=statement.signed_revision.number,
                 sha256=statement.signed_revision.sha256, issue=publication.number, public_from=public_from,
                 places=publication.places)
    return statement


@transaction.atomic
def withdraw(statement: Statement, *, by: User, reason: str) -> Statement:
    """A coordinator withdraws a statement, giving the reason. A published statement keeps its
    page, marked withdrawn with the reason."""
    statement = _locked(statement)
    permissions.require(permissions.can_withdraw(by, statement))
    reason = text.normalise(reason)
    if not reason:
        raise ValidationError(_("Give the reason for withdrawing the statement."), code="reason")
    previous = statement.status
    statement.status = workflow.check(statement, Transition.WITHDRAW)
    statement.withdrawn_at, statement.withdrawal_reason = timezone.now(), reason
    statement.save(update_fields=["status", "withdrawn_at", "withdrawal_reason"])
    audit.record(by, "statement.withdrawn", statement, reason=reason, previous_status=previous)
    return statement
