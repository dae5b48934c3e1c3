"""statements/migrations/0018 records the reminders sent before it as `Reminder` rows, read once
from the outbox's keys, so reminders already sent still hold back a repeat after the upgrade."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from statements import tasks
from statements.models import Reminder, Statement
from statements.services import cosigning

from . import factories

REMINDER = ("statements", "0018_reminder")


def migrate(target=None) -> None:
    """To `target`, or forward to the latest of every app."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target] if target else executor.loader.graph.leaf_nodes())


def before_reminders() -> tuple[str, str]:
    """The statements migration 0018 follows (0016 or 0017, depending on what is merged)."""
    executor = MigrationExecutor(connection)
    return next(parent for parent in executor.loader.graph.node_map[REMINDER].parents if parent[0] == "statements")


@pytest.mark.django_db(transaction=True)
def test_reminders_sent_before_the_upgrade_still_hold_back_a_repeat():
    coalition = factories.CoalitionFactory()
    coordinator = factories.CoordinatorFactory(coalition=coalition).user
    first, second = (factories.MembershipFactory(coalition=coalition).organisation for _ in "ab")
    for organisation in (first, second):
        factories.OrganisationRoleFactory(organisation=organisation, coalition=coalition, can_sign=True)
    statement = factories.make_statement(coalition, by=coordinator, status="open")
    Statement.objects.filter(pk=statement.pk).update(deadline=timezone.now() + timedelta(days=1),
                                                     opened_at=timezone.now() - timedelta(days=7))
    assert tasks.send_signature_reminders() == 2
    cosigning.remind(statement, by=coordinator)
    sent = sorted((r.organisation_id, r.kind, r.queued_at) for r in Reminder.objects.all())

    migrate(before_reminders())  # the table goes; the outbox keeps the emails
    migrate()

    restored = sorted((r.organisation_id, r.kind, r.queued_at) for r in Reminder.objects.all())
    assert [(o, kind) for o, kind, _at in restored] == [(o, kind) for o, kind, _at in sent]
    assert all(abs(a[2] - b[2]) < timedelta(seconds=5) for a, b in zip(restored, sent, strict=True))
    assert tasks.send_signature_reminders() == 0
    outcome = cosigning.remind(statement, by=coordinator)
    assert outcome.reminded == [] and {o.pk for o, _at in outcome.recently} == {first.pk, second.pk}
