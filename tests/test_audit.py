import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from coalition import audit
from coalition.models import AuditEvent

pytestmark = pytest.mark.django_db


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
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET action = %s WHERE id = %s", ["test.forged", altered.pk])
    with pytest.raises(CommandError, match=f"chain broken at event {altered.pk}"):
        call_command("verify_audit")


def test_verify_audit_finds_a_deleted_row(coalition, coordinator):
    audit.record(coordinator, "test.one", coalition)
    removed = audit.record(coordinator, "test.two", coalition)
    after = audit.record(coordinator, "test.three", coalition)
    AuditEvent.objects.filter(pk=removed.pk).delete()
    report = audit.verify()
    assert not report.intact and report.broken_event_id == after.pk
