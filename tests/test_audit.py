import importlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from coalition import audit
from coalition.models import AuditEvent

from .helpers import append_only_trigger_dropped

pytestmark = pytest.mark.django_db

APPEND_ONLY = importlib.import_module("coalition.migrations.0004_audit_append_only")
TABLE = AuditEvent._meta.db_table


@pytest.mark.parametrize("statement", [
    f"UPDATE {TABLE} SET action = 'test.forged'",
    f"DELETE FROM {TABLE}",
    # (The foreign keys' checks of the rows just written run first: TRUNCATE waits for none.)
    f"SET CONSTRAINTS ALL IMMEDIATE; SET LOCAL coalition.audit_truncate = 'off'; TRUNCATE {TABLE}",
    f"SET CONSTRAINTS ALL IMMEDIATE; TRUNCATE {TABLE}",  # unset, as in any session but the test flush
], ids=["update", "delete", "truncate", "truncate-unset"])
def test_raw_sql_cannot_change_or_remove_audit_events_on_postgresql(postgres_database, coalition, coordinator,
                                                                     statement):
    first = audit.record(coordinator, "test.one", coalition)
    audit.record(coordinator, "test.two", coalition)
    with connection.cursor() as cursor:
        cursor.execute("RESET coalition.audit_truncate")
    try:
        with pytest.raises(DatabaseError, match="the audit log is append-only: (UPDATE|DELETE|TRUNCATE) refused"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET coalition.audit_truncate = 'on'")
    assert AuditEvent.objects.get(pk=first.pk).action == "test.one"
    assert AuditEvent.objects.count() == 2 and audit.verify().intact


def test_events_form_a_chain(coalition, coordinator):
    first = audit.record(coordinator, "test.one", coalition, note="first")
    second = audit.record(coordinator, "test.two", coalition)
    assert first.previous_hash == audit.GENESIS
    assert second.previous_hash == first.hash
    assert audit.verify().intact and audit.verify().count == 2


def test_verify_audit_reports_an_intact_chain(coalition, coordinator, capsys):
    audit.record(coordinator, "test.one", coalition)
    call_command("verify_audit")
    assert "chain intact, 1 events" in capsys.readouterr().out


def test_verify_audit_finds_a_row_altered_directly_in_the_database(coalition, coordinator):
    audit.record(coordinator, "test.one", coalition)
    altered = audit.record(coordinator, "test.two", coalition, reason="original")
    audit.record(coordinator, "test.three", coalition)
    with append_only_trigger_dropped(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET action = %s WHERE id = %s", ["test.forged", altered.pk])
    with pytest.raises(CommandError, match=f"chain broken at event {altered.pk}"):
        call_command("verify_audit")


def test_verify_audit_finds_a_deleted_row(coalition, coordinator):
    audit.record(coordinator, "test.one", coalition)
    removed = audit.record(coordinator, "test.two", coalition)
    after = audit.record(coordinator, "test.three", coalition)
    with append_only_trigger_dropped():
        AuditEvent.objects.filter(pk=removed.pk).delete()
    report = audit.verify()
    assert not report.intact and report.broken_event_id == after.pk
