"""The audit log cannot lose its tail unseen: each publication anchors the chain's head (printed in
its PDF, listed on /transparency/), `verify_audit` checks the chain against every anchor and names
what is missing, and the periodic check emails the site operators once per failure.

On PostgreSQL the events are first freed by dropping the append-only trigger by hand (the attacker
the anchors are for); SQLite has no trigger, and the anchors work the same."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from coalition import audit
from coalition.models import AuditEvent, OutboundEmail

from statements import tasks
from statements.services import publishing

from . import factories
from .helpers import append_only_trigger_dropped, closed_statement, pdftotext, publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def published(coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    return publish(statement, coordinator, django_capture_on_commit_callbacks)


def correct(publication, coordinator, capture, note="A name was misspelt."):
    with capture(execute=True):
        publishing.publish_correction(publication.statement, by=coordinator, note=note)
    return publication.statement.publications.get(number=publication.number + 1)


def delete_events_after(event_id: int) -> None:
    with append_only_trigger_dropped():
        AuditEvent.objects.filter(pk__gt=event_id).delete()


def test_a_publication_anchors_the_audit_head_and_its_pdf_prints_it(published):
    published_event = AuditEvent.objects.get(action="statement.published")
    # The head when the PDF was made: the coordinator's publish, before the issue's release.
    assert published.audit_event_id == published_event.pk and published.audit_hash == published_event.hash
    assert AuditEvent.objects.filter(action="statement.publication_released", pk__gt=published_event.pk).exists()
    words = pdftotext(published.pdf.read())
    assert f"Audit log when this file was made: event {published_event.pk}, SHA-256" in words
    for group in (published_event.hash[i:i + 16] for i in range(0, 64, 16)):
        assert group in words


def test_a_correction_anchors_a_later_head(published, coordinator, django_capture_on_commit_callbacks):
    second = correct(published, coordinator, django_capture_on_commit_callbacks)
    corrected = AuditEvent.objects.get(action="statement.corrected")
    assert second.audit_event_id == corrected.pk > published.audit_event_id
    assert f"event {corrected.pk}" in pdftotext(second.pdf.read())


def test_verify_audit_checks_every_anchor_and_says_so(published, capsys):
    call_command("verify_audit")
    out = capsys.readouterr().out
    # Issue 1's anchor and its release event.
    assert f"chain intact, {AuditEvent.objects.count()} events; 2 anchors and expected events checked" in out


def test_deleting_the_tail_after_an_anchor_fails_verify_audit_and_names_the_gap(
        published, coordinator, coalition, django_capture_on_commit_callbacks):
    second = correct(published, coordinator, django_capture_on_commit_callbacks)
    audit.record(coordinator, "test.after", coalition)
    anchor = published.audit_event_id
    delete_events_after(anchor)  # the chain now ends at issue 1's anchor: no broken link in it

    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    message = str(failure.value)
    assert "no broken link in the chain" in message
    assert (f"events {anchor + 1} to {second.audit_event_id} are missing: the chain ends at event {anchor}, "
            f"but issue 2 of the statement {published.statement.slug} recorded event {second.audit_event_id}"
            in message)
    assert f"the release of issue 1 of the statement {published.statement.slug}" in message
    assert f"the release of issue 2 of the statement {published.statement.slug}" in message


def test_events_appended_after_the_tail_was_deleted_leave_the_gap_named(
        published, coordinator, coalition, django_capture_on_commit_callbacks):
    """The chain goes on from what is left, intact link by link; the anchored event is gone from
    the middle of it, and the gap of event numbers around it is named."""
    second = correct(published, coordinator, django_capture_on_commit_callbacks)
    delete_events_after(published.audit_event_id)
    appended = audit.record(coordinator, "test.after", coalition)
    assert appended.pk > second.audit_event_id and appended.previous_hash == published.audit_hash
    report = audit.verify()
    assert report.broken_event_id is None and not report.intact
    assert (f"events {published.audit_event_id + 1} to {appended.pk - 1} are missing from the chain, among them "
            f"event {second.audit_event_id}, which issue 2 of the statement {published.statement.slug} recorded"
            in report.findings[0].describe())


def test_on_postgresql_the_tail_is_refused_until_the_trigger_is_dropped_and_then_its_loss_is_named(
        postgres_database, published):
    anchor = published.audit_event_id
    with pytest.raises(DatabaseError, match="append-only: DELETE refused"), transaction.atomic():
        AuditEvent.objects.filter(pk__gte=anchor).delete()
    call_command("verify_audit")

    with append_only_trigger_dropped(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id >= %s", [anchor])
    with pytest.raises(CommandError, match=f"event {anchor} is missing: the chain ends before it, but issue 1 "
                                           f"of the statement {published.statement.slug} recorded it"):
        call_command("verify_audit")


def test_a_chain_rewritten_with_fresh_hashes_is_intact_but_does_not_match_its_anchor(
        published, coordinator, coalition):
    """Remove an event and recompute every hash after it: no broken link, but the anchored event
    now has another hash."""
    audit.record(coordinator, "test.after", coalition)
    victim = AuditEvent.objects.filter(action="statement.opened").get().pk
    with append_only_trigger_dropped():
        AuditEvent.objects.filter(pk=victim).delete()
        previous = AuditEvent.objects.filter(pk__lt=victim).order_by("-pk").values_list("hash", flat=True).first()
        for event in AuditEvent.objects.filter(pk__gt=victim).order_by("pk"):
            event.previous_hash = previous
            event.hash = previous = audit.compute_hash(event)
            event.save(update_fields=["previous_hash", "hash"])
    report = audit.verify()
    assert report.broken_event_id is None and not report.intact
    [finding] = report.findings
    assert finding.kind == "altered" and finding.event_id == published.audit_event_id
    with pytest.raises(CommandError, match=f"event {published.audit_event_id} has changed: issue 1 of the "
                                           f"statement {published.statement.slug} recorded it with hash "
                                           f"{published.audit_hash}"):
        call_command("verify_audit")


def test_a_missing_release_event_is_named_even_with_the_anchor_intact(published):
    released = AuditEvent.objects.get(action="statement.publication_released")
    delete_events_after(released.pk - 1)
    report = audit.verify()
    assert not report.intact and report.broken_event_id is None
    assert [f.kind for f in report.findings] == ["unrecorded"]
    assert "an event is missing: the release of issue 1" in report.findings[0].describe()


# The periodic check and the operators' email ------------------------------------------------------


@pytest.fixture
def operators(settings, db):
    settings.ADMINS = [("Ops", "ops@example.org")]
    factories.UserFactory(email="root@example.org", is_superuser=True, is_staff=True, language="uk")
    factories.UserFactory(email="", is_superuser=True, is_staff=True)  # no address: nobody to tell
    factories.UserFactory(email="gone@example.org", is_superuser=True, is_active=False)
    return ["ops@example.org", "root@example.org"]


def test_an_intact_log_emails_nobody(published, operators):
    assert tasks.check_audit_log() is True
    assert not OutboundEmail.objects.filter(kind="audit_check_failed").exists()


def test_the_periodic_check_emails_the_operators_once_per_failure(
        published, operators, coordinator, coalition, django_capture_on_commit_callbacks):
    delete_events_after(published.audit_event_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.check_audit_log() is False
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.check_audit_log() is False  # an hour later: the same failure, no second message
    audit.record(coordinator, "test.later", coalition)  # the log goes on: still the same failure
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.check_audit_log() is False
    mails = {m.recipient: m for m in OutboundEmail.objects.filter(kind="audit_check_failed")}
    assert sorted(mails) == operators
    assert mails["ops@example.org"].subject == "The audit log check failed"
    assert f"the release of issue 1 of the statement {published.statement.slug}" in mails["ops@example.org"].body_text
    assert reverse("transparency") in mails["ops@example.org"].body_text
    assert mails["root@example.org"].subject == "Перевірка журналу аудиту виявила проблему"
    assert "випуск 1 заяви" in mails["root@example.org"].body_text

    # A different failure later is a new message.
    audit.record(coordinator, "test.after", coalition)
    with append_only_trigger_dropped():
        AuditEvent.objects.filter(pk=published.audit_event_id).update(action="test.forged")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.check_audit_log()
    assert OutboundEmail.objects.filter(kind="audit_check_failed").count() == 4


def test_beat_runs_the_check_every_audit_check_seconds(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["check-audit-log"]
    assert entry["task"] == "statements.tasks.check_audit_log" and entry["schedule"] == 3600.0
    assert tasks.check_audit_log.name == entry["task"]


# /transparency/ ---------------------------------------------------------------------------------


def test_the_transparency_page_lists_every_public_anchor_newest_first(
        published, coordinator, client, django_capture_on_commit_callbacks):
    second = correct(published, coordinator, django_capture_on_commit_callbacks)
    response = client.get(reverse("transparency"))
    assert response.status_code == 200
    page = response.content.decode()
    grouped = [" ".join(f"<span>{h[i:i + 16]}</span>" for i in range(0, 64, 16))
               for h in (second.audit_hash, published.audit_hash)]
    assert page.index(grouped[0]) < page.index(grouped[1])
    assert f"<td>{second.audit_event_id}</td>" in page and f"<td>{published.audit_event_id}</td>" in page
    assert "Stop the deportations" in page and "2 anchors" in page


def test_an_embargoed_issue_is_not_listed_until_it_is_public(
        coalition, coordinator, signer, member_org, client, django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    publication = publish(statement, coordinator, django_capture_on_commit_callbacks,
                          public_from=timezone.now() + timedelta(hours=2))
    assert publication.audit_event_id is not None
    assert publication.audit_hash[:16] not in client.get(reverse("transparency")).content.decode()
    assert client.get(reverse("transparency"), {"format": "json"}).json()["count"] == 0


def test_the_anchors_as_json_by_parameter_or_by_accept_header(published, client, settings):
    by_parameter = client.get(reverse("transparency"), {"format": "json"})
    by_header = client.get(reverse("transparency"), headers={"accept": "application/json"})
    for response in (by_parameter, by_header):
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        assert "Accept" in response["Vary"]
        data = json.loads(response.content)
        assert data["count"] == 1 and data["next"] is None
        [anchor] = data["results"]
        assert anchor == {
            "statement": published.statement.slug, "title": "Stop the deportations",
            "url": settings.SITE_URL + published.statement.get_absolute_url(), "issue": 1,
            "released_at": published.released_at.isoformat(), "pdf_sha256": published.sha256,
            "pdf_url": f"{settings.SITE_URL}{reverse('statement_pdf', args=[published.statement.slug])}?issue=1",
            "audit_event": published.audit_event_id, "audit_hash": published.audit_hash,
        }
    assert "text/html" in client.get(reverse("transparency"), headers={"accept": "text/html,*/*"})["Content-Type"]


def test_the_transparency_page_pages_by_50(published, client):
    pages = client.get(reverse("transparency"), {"format": "json", "page": "not-a-number"}).json()
    assert pages["page"] == 1 and pages["pages"] == 1
    assert client.get(reverse("transparency"), {"page": "99"}).status_code == 200


def test_the_transparency_page_in_ukrainian_and_linked_from_every_page_and_verify(client):
    client.cookies["django_language"] = "uk"
    page = client.get(reverse("transparency"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Прозорість: якорі журналу аудиту" in text and "Жодна публікація ще не записала якоря." in text
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("transparency")}"' in home and "Прозорість" in home
    client.cookies["django_language"] = "en"
    verify = client.get(reverse("verify")).content.decode()
    assert f'<a href="{reverse("transparency")}">The transparency page</a>' in verify
