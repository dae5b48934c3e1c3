"""What was published never changes: refused by the models, and in PostgreSQL by triggers, so that
raw SQL is refused as well as the ORM. The allowed changes still work."""

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from statements import services
from statements.models import Publication, Revision, Signature, Statement

from .helpers import closed_statement

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ready(coalition, coordinator, signer, member_org):
    """A published statement whose issue 1 is ready (the PDF itself is not what these tests check)."""
    statement = closed_statement(coalition, coordinator, signer, member_org)
    services.publish(statement, by=coordinator)
    publication = statement.publications.get()
    publication.state, publication.sha256, publication.ready_at = Publication.State.READY, "a" * 64, timezone.now()
    publication.save(update_fields=["state", "sha256", "ready_at"])
    statement.refresh_from_db()
    return publication


def refused(sql: str, params) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        return True
    return False


def test_the_orm_refuses_to_change_or_delete_a_ready_publication(ready):
    ready.correction_note = "rewritten"
    with pytest.raises(ValidationError):
        ready.save()
    with pytest.raises(ValidationError):
        ready.delete()


def test_postgresql_refuses_raw_sql_changes_to_what_was_published(postgres_database, ready):
    statement = ready.statement
    signature = statement.signatures.first()
    assert refused("UPDATE statements_publication SET sha256 = %s WHERE id = %s", ["b" * 64, ready.pk])
    assert refused("DELETE FROM statements_publication WHERE id = %s", [ready.pk])
    assert refused("UPDATE statements_revision SET title = %s WHERE id = %s", ["Other", ready.revision_id])
    assert refused("DELETE FROM statements_revision WHERE id = %s", [ready.revision_id])
    assert refused("UPDATE statements_signature SET name = %s WHERE id = %s", ["Someone", signature.pk])
    assert refused("DELETE FROM statements_signature WHERE id = %s", [signature.pk])
    assert refused("UPDATE statements_statement SET slug = %s WHERE id = %s", ["other", statement.pk])
    assert refused("DELETE FROM statements_statement WHERE id = %s", [statement.pk])


def test_postgresql_refuses_orm_changes_that_bypass_save(postgres_database, ready):
    with pytest.raises(DatabaseError), transaction.atomic():
        Publication.objects.filter(pk=ready.pk).update(correction_note="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        Revision.objects.filter(pk=ready.revision_id).update(title="Other")
    with pytest.raises(DatabaseError), transaction.atomic():
        Signature.objects.filter(statement=ready.statement).update(hidden_at=timezone.now())


def test_the_allowed_changes_still_work(postgres_database, coalition, coordinator, signer, member_org):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    services.publish(statement, by=coordinator, public_from=timezone.now() + timezone.timedelta(hours=1))
    publication = statement.publications.get()
    # pending -> failed -> pending -> ready, then released once
    Publication.objects.filter(pk=publication.pk).update(state="failed", failure="no key")
    Publication.objects.filter(pk=publication.pk).update(state="pending", failure="")
    Publication.objects.filter(pk=publication.pk).update(state="ready", sha256="c" * 64, ready_at=timezone.now())
    Publication.objects.filter(pk=publication.pk).update(released_at=timezone.now())
    Statement.objects.filter(pk=statement.pk).update(published_at=timezone.now())
    # a correction is a new row
    Publication.objects.create(statement=statement, number=2, revision=publication.revision, created_by=coordinator)
    # withdrawal of the published statement
    services.withdraw(statement, by=coordinator, reason="Superseded by events.")
    statement.refresh_from_db()
    assert statement.status == Statement.Status.WITHDRAWN
    assert refused("UPDATE statements_publication SET released_at = now() WHERE id = %s", [publication.pk])


def test_the_orm_refuses_to_change_or_delete_a_signature_of_a_published_statement(ready):
    signature = ready.statement.signatures.first()
    signature.name = "Someone else"
    with pytest.raises(ValidationError):
        signature.save()
    with pytest.raises(ValidationError):
        signature.delete()
