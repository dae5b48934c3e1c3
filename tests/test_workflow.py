"""The statement's state machine: each transition allowed and refused, by role and by state."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from coalition import audit
from statements import services, workflow
from statements.models import Statement
from statements.services import Draft
from statements.workflow import Transition

from .factories import make_statement

pytestmark = pytest.mark.django_db


Status = Statement.Status
ALL_STATES = [Status.DRAFT, Status.OPEN, Status.CLOSED, Status.PUBLISHED, Status.WITHDRAWN]


def take(transition, statement, user):
    if transition is Transition.OPEN:
        return services.open_for_signature(statement, by=user, deadline=None)
    if transition is Transition.CLOSE:
        return services.close_signing(statement, by=user)
    if transition is Transition.PUBLISH:
        return services.publish(statement, by=user)
    return services.withdraw(statement, by=user, reason="Superseded by a later statement.")


ALLOWED = {
    Transition.OPEN: {Status.DRAFT: Status.OPEN},
    Transition.CLOSE: {Status.OPEN: Status.CLOSED},
    Transition.PUBLISH: {Status.CLOSED: Status.PUBLISHED},
    Transition.WITHDRAW: {Status.DRAFT: Status.WITHDRAWN, Status.OPEN: Status.WITHDRAWN,
                          Status.CLOSED: Status.WITHDRAWN, Status.PUBLISHED: Status.WITHDRAWN},
}
CASES = [(t, s) for t in ALLOWED for s in ALL_STATES]


@pytest.mark.parametrize(("transition", "state"), CASES, ids=[f"{t.value}-from-{s}" for t, s in CASES])
def test_a_coordinator_moves_a_statement_only_from_the_states_the_rules_allow(
        transition, state, coalition, coordinator, staff):
    statement = make_statement(coalition, by=staff, coordinator=coordinator, status=state)
    expected = ALLOWED[transition].get(state)
    if expected is None:
        with pytest.raises(ValidationError) as refused:
            take(transition, statement, coordinator)
        assert refused.value.code == "wrong_state"
        statement.refresh_from_db()
        assert statement.status == state
    else:
        assert take(transition, statement, coordinator).status == expected
        statement.refresh_from_db()
        assert statement.status == expected


@pytest.mark.parametrize("transition", list(ALLOWED))
@pytest.mark.parametrize("who", ["staff", "signer", "outsider", "coordinator_of_another_coalition"])
def test_only_coordinators_of_the_coalition_take_a_transition(transition, who, coalition, coordinator, staff,
                                                              signer, outsider):
    from .factories import CoordinatorFactory

    users = {"staff": staff, "signer": signer, "outsider": outsider,
             "coordinator_of_another_coalition": CoordinatorFactory().user}
    start = next(iter(ALLOWED[transition]))
    statement = make_statement(coalition, by=staff, coordinator=coordinator, status=start)
    events = audit.events_for(statement).count()
    with pytest.raises(PermissionDenied):
        take(transition, statement, users[who])
    statement.refresh_from_db()
    assert statement.status == start
    assert audit.events_for(statement).count() == events


def test_check_names_the_state_and_the_transition_it_refuses(coalition, staff):
    statement = make_statement(coalition, by=staff)
    with pytest.raises(ValidationError, match="Draft.*close signing"):
        workflow.check(statement, Transition.CLOSE)
    assert workflow.check(statement, Transition.OPEN) == Status.OPEN
    assert workflow.available(statement) == [Transition.OPEN, Transition.WITHDRAW]


def test_publish_a_correction_is_allowed_only_from_published(coalition, staff, coordinator):
    published = make_statement(coalition, by=staff, coordinator=coordinator, status="published")
    assert workflow.check(published, Transition.CORRECT) == Status.PUBLISHED
    with pytest.raises(ValidationError):
        workflow.check(make_statement(coalition, by=staff, status="draft"), Transition.CORRECT)


def test_opening_freezes_the_current_revision_and_the_deadline(coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff)
    deadline = timezone.now() + timedelta(days=7)
    services.open_for_signature(statement, by=coordinator, deadline=deadline)
    statement.refresh_from_db()
    assert statement.signed_revision == statement.current_revision
    assert statement.deadline == deadline and statement.opened_at is not None
    event = audit.events_for(statement).last()
    assert event.action == "statement.opened" and event.data["revision"] == 1


def test_a_deadline_in_the_past_is_refused(coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff)
    with pytest.raises(ValidationError, match="future"):
        services.open_for_signature(statement, by=coordinator, deadline=timezone.now() - timedelta(hours=1))
    statement.refresh_from_db()
    assert statement.status == Status.DRAFT and statement.signed_revision is None


def test_while_open_only_coordinators_change_the_text_and_the_change_is_refrozen_and_recorded(
        coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff, coordinator=coordinator, status="open")
    first = statement.signed_revision
    with pytest.raises(PermissionDenied):
        services.save_revision(statement, by=staff, based_on=first, draft=Draft("A statement", "", "Changed."))
    revision = services.save_revision(statement, by=coordinator, based_on=first,
                                      draft=Draft("A statement", "", "Changed by the coordinator."))
    statement.refresh_from_db()
    assert statement.signed_revision == revision == statement.current_revision
    event = audit.events_for(statement).last()
    assert event.action == "statement.edited"
    assert event.data["signed_revision_replaced"] == first.number and event.data["revision"] == revision.number


@pytest.mark.parametrize("state", ["closed", "published", "withdrawn"])
def test_the_text_of_a_closed_published_or_withdrawn_statement_never_changes(state, coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff, coordinator=coordinator, status=state)
    with pytest.raises((PermissionDenied, ValidationError)):
        services.save_revision(statement, by=coordinator, based_on=statement.current_revision,
                               draft=Draft("Changed", "", "Changed."))
    assert statement.revisions.count() == 1


def test_withdrawal_needs_a_reason(coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff)
    with pytest.raises(ValidationError, match="reason"):
        services.withdraw(statement, by=coordinator, reason="  \n ")
    statement.refresh_from_db()
    assert statement.status == Status.DRAFT


def test_every_transition_writes_an_audit_event_in_order(coalition, staff, coordinator):
    statement = make_statement(coalition, by=staff, coordinator=coordinator, status="published")
    services.withdraw(statement, by=coordinator, reason="Facts changed.")
    actions = list(audit.events_for(statement).values_list("action", flat=True))
    assert actions == ["statement.created", "statement.opened", "statement.closed", "statement.published",
                       "statement.withdrawn"]
    assert audit.verify().intact
