"""Publishing a statement: issue 1 as a signed PDF, failure and retry, corrections, embargo,
the PDF download and the statement page."""

import time
from datetime import timedelta
from io import BytesIO
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from coalition.models import AuditEvent, OutboundEmail

from statements import notifications, pdf, pdf_signing, services, tasks
from statements.models import Publication, Signature
from statements.services import publishing

from . import factories
from .helpers import closed_statement, pdftotext, publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def published(coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    return publish(statement, coordinator, django_capture_on_commit_callbacks)


def test_publishing_makes_issue_1_a_signed_pdf_with_the_text_and_every_signatory(published, member_org):
    assert published.state == Publication.State.READY and published.released_at is not None
    data = published.pdf.read()
    assert pdf.sha256(data) == published.sha256
    assert 1 <= len(PdfReader(BytesIO(data)).pages) <= 3
    words = pdftotext(data)
    assert "Stop the deportations" in words
    assert member_org.name in words and "Oleksandra Matviichuk" in words
    verification = pdf.verify_pdf(data)
    assert verification.authentic
    assert published.certificate_sha256 == pdf_signing.fingerprint(pdf_signing.signing_certificate())
    assert verification.certificate_sha256 == published.certificate_sha256
    [organisation] = published.signatories["organisations"]
    signature = Signature.objects.get(organisation=member_org)
    assert organisation == {"name": member_org.name, "slug": member_org.slug, "sha256": published.revision.sha256,
                            "signed_at": signature.created_at.isoformat(),
                            "names": {"en": member_org.name, "uk": member_org.name}}


def test_publishing_tells_every_signatory_once(published, signer):
    recipients = set(OutboundEmail.objects.filter(kind="statement_published").values_list("recipient", flat=True))
    assert recipients == {signer.email.lower(), "oleksandra@example.org"}
    notifications.publication_released(published)  # again: the dedupe key names the issue
    assert OutboundEmail.objects.filter(kind="statement_published").count() == 2


def test_running_the_task_twice_writes_once(published):
    before = (published.sha256, published.pdf.name, published.attempts)
    with mock.patch.object(pdf, "render_pdf") as render:
        tasks.prepare_publication(published.pk)
    render.assert_not_called()
    published.refresh_from_db()
    assert (published.sha256, published.pdf.name, published.attempts) == before


def test_a_failure_is_shown_to_coordinators_and_retry_succeeds(
        coalition, coordinator, signer, member_org, client, django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    with mock.patch.object(pdf, "sign_pdf", side_effect=pdf_signing.SigningIdentityMissing("no key here")):
        publication = publish(statement, coordinator, django_capture_on_commit_callbacks)
    assert publication.state == Publication.State.FAILED and "no key here" in publication.failure

    client.force_login(coordinator)
    page = client.get(statement.get_absolute_url()).content.decode()
    assert "no key here" in page and "Try again" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("publication_retry", args=[statement.slug, 1]))
    assert response.status_code == 302
    publication.refresh_from_db()
    assert publication.state == Publication.State.READY and publication.attempts == 1  # counted afresh
    assert AuditEvent.objects.filter(action="statement.publication_retried").count() == 1


def test_while_pending_the_pages_say_it_is_being_prepared(coalition, coordinator, signer, member_org, client):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    services.publish(statement, by=coordinator)  # the task runs only at commit, which never comes here
    assert "being prepared" in client.get(statement.get_absolute_url()).content.decode()
    response = client.get(reverse("statement_pdf", args=[statement.slug]))
    assert response.status_code == 404 and "being prepared" in response.content.decode()


def test_the_pdf_is_served_exactly_as_signed_with_a_file_name(published, client):
    response = client.get(reverse("statement_pdf", args=[published.statement.slug]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f'filename="{published.statement.slug}-issue-1.pdf"' in response["Content-Disposition"]
    assert pdf.sha256(b"".join(response.streaming_content)) == published.sha256


@pytest.mark.parametrize("issue", ["2", "x", "-1"])
def test_an_unknown_issue_is_a_clear_404(published, client, issue):
    response = client.get(reverse("statement_pdf", args=[published.statement.slug]), {"issue": issue})
    assert response.status_code == 404


@pytest.mark.slow
def test_a_correction_is_issue_2_and_marks_issue_1_superseded(
        published, coordinator, client, django_capture_on_commit_callbacks):
    statement = published.statement
    client.force_login(coordinator)
    confirm = factories.confirmation(statement, "correct")
    assert client.post(reverse("statement_correct", args=[statement.slug]), {"note": "", **confirm}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("statement_correct", args=[statement.slug]),
                    {"note": "A signatory's name was misspelt.", **confirm})
    second = statement.publications.get(number=2)
    assert second.state == Publication.State.READY
    assert "misspelt" in pdftotext(second.pdf.read())
    client.logout()
    latest = client.get(reverse("statement_pdf", args=[statement.slug]))
    assert pdf.sha256(b"".join(latest.streaming_content)) == second.sha256
    earlier = client.get(reverse("statement_pdf", args=[statement.slug]), {"issue": 1})
    assert pdf.sha256(b"".join(earlier.streaming_content)) == published.sha256
    page = client.get(statement.get_absolute_url()).content.decode()
    assert "superseded by a correction" in page and "Issue 2" in page


def test_an_embargoed_statement_is_public_only_once_the_periodic_task_releases_it(
        coalition, coordinator, signer, member_org, client, staff, django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    release_at = timezone.now() + timedelta(hours=2)
    publication = publish(statement, coordinator, django_capture_on_commit_callbacks, public_from=release_at)
    assert publication.state == Publication.State.READY and publication.released_at is None
    assert client.get(statement.get_absolute_url()).status_code == 404
    assert client.get(reverse("statement_pdf", args=[statement.slug])).status_code == 404
    assert not OutboundEmail.objects.filter(kind="statement_published").exists()
    client.force_login(staff)
    assert client.get(reverse("statement_pdf", args=[statement.slug])).status_code == 200
    client.logout()

    assert tasks.release_due_publications() == 0
    with (mock.patch("django.utils.timezone.now", return_value=release_at + timedelta(minutes=1)),
          django_capture_on_commit_callbacks(execute=True)):
        assert tasks.release_due_publications() == 1
    assert tasks.release_due_publications() == 0
    assert client.get(statement.get_absolute_url()).status_code == 200
    assert client.get(reverse("statement_pdf", args=[statement.slug])).status_code == 200
    assert OutboundEmail.objects.filter(kind="statement_published").count() == 2


def test_the_release_time_must_be_in_the_future(coalition, coordinator, signer, member_org, client):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    client.force_login(coordinator)
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("statement_publish", args=[statement.slug]),
                           {"public_from": past, **factories.confirmation(statement, "publish")})
    assert response.status_code == 400 and "must be in the future" in response.content.decode()
    statement.refresh_from_db()
    assert statement.status == "closed" and not statement.publications.exists()


@pytest.mark.parametrize("who", ["signer", "staff", "outsider"])
def test_only_coordinators_publish_correct_and_retry(coalition, coordinator, signer, member_org, request, who):
    person = request.getfixturevalue(who)
    statement = closed_statement(coalition, coordinator, signer, member_org)
    with pytest.raises(PermissionDenied):
        services.publish(statement, by=person)
    services.publish(statement, by=coordinator)
    publication = statement.publications.get()
    Publication.objects.filter(pk=publication.pk).update(state=Publication.State.FAILED)
    with pytest.raises(PermissionDenied):
        publishing.retry(publication, by=person)
    with pytest.raises(PermissionDenied):
        publishing.publish_correction(statement, by=person, note="A fix.")


def test_others_get_403_from_the_coordinators_buttons(coalition, coordinator, signer, member_org, client):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    client.force_login(signer)
    assert client.post(reverse("statement_publish", args=[statement.slug])).status_code == 403
    services.publish(statement, by=coordinator)
    Publication.objects.filter(statement=statement).update(state=Publication.State.FAILED)
    assert client.post(reverse("publication_retry", args=[statement.slug, 1])).status_code == 403
    assert client.post(reverse("statement_correct", args=[statement.slug]), {"note": "x"}).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_prepares_the_pdf_through_redis(
        start_worker, postgres_database, coalition, coordinator, signer, member_org, signing_identity, settings):
    start_worker({
        "MEDIA_ROOT": str(settings.MEDIA_ROOT), "SIGNING_PKCS12_FILE": "",
        "SIGNING_KEY_FILE": str(signing_identity.signing_key), "SIGNING_CERT_FILE": str(signing_identity.signing_cert),
        "SIGNING_ROOT_CERT_FILE": str(signing_identity.root_cert), "SIGNING_TIMESTAMP_URL": "",
    })
    statement = closed_statement(coalition, coordinator, signer, member_org)
    services.publish(statement, by=coordinator)
    publication = statement.publications.get()
    deadline = time.time() + 90
    while time.time() < deadline and publication.state == Publication.State.PENDING:
        time.sleep(0.5)
        publication.refresh_from_db()
    assert publication.state == Publication.State.READY, publication.failure
    assert pdf.verify_pdf(publication.pdf.read()).authentic


def test_a_correction_waits_for_an_issue_not_yet_public(coalition, coordinator, signer, member_org):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    services.publish(statement, by=coordinator, public_from=timezone.now() + timedelta(hours=1))
    with pytest.raises(ValidationError, match="not yet public"):
        publishing.publish_correction(statement, by=coordinator, note="A fix.")


def test_when_the_broker_is_down_publishing_succeeds_and_the_sweep_prepares_the_pdf_later(
        coalition, coordinator, signer, member_org, client, django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    client.force_login(coordinator)
    with mock.patch.object(tasks.prepare_publication, "delay", side_effect=ConnectionError("Redis is down")):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("statement_publish", args=[statement.slug]),
                                   factories.confirmation(statement, "publish"))
    assert response.status_code == 302
    publication = statement.publications.get()
    assert publication.state == Publication.State.PENDING
    assert tasks.prepare_stale_publications() == 0  # not stale yet
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(minutes=10)):
        assert tasks.prepare_stale_publications() == 1
    publication.refresh_from_db()
    assert publication.state == Publication.State.READY


def test_a_timestamp_server_that_does_not_answer_fails_the_issue_with_a_reason_to_try_again(
        coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks):
    from pyhanko.sign.timestamps import TimestampRequestError

    statement = closed_statement(coalition, coordinator, signer, member_org)
    with mock.patch.object(pdf, "render_pdf", return_value=b"%PDF-1.7"), \
            mock.patch.object(pdf, "sign_pdf", side_effect=TimestampRequestError("timed out")):
        publication = publish(statement, coordinator, django_capture_on_commit_callbacks)
    assert publication.state == Publication.State.FAILED
    assert "timestamp server did not answer" in publication.failure


@pytest.mark.django_db(transaction=True)  # the queueing runs at the real commit, before the answer
@pytest.mark.parametrize("made_at_once", [True, False])
def test_the_coordinator_is_told_whether_the_signed_pdf_is_ready(
        coalition, coordinator, signer, member_org, client, made_at_once):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    client.force_login(coordinator)

    def queue(publication_id):  # in-process, as without a broker; or left to a worker that has not run yet
        if made_at_once:
            tasks.prepare_publication.apply(args=[publication_id])

    confirm = factories.confirmation(statement, "publish")
    with mock.patch.object(tasks.prepare_publication, "delay", side_effect=queue):
        response = client.post(reverse("statement_publish", args=[statement.slug]), confirm)
    page = client.get(response.url).content.decode()
    if made_at_once:
        assert "The statement is published with its signed PDF." in page
    else:
        assert "The statement is published; its signed PDF is being prepared." in page


def test_a_statement_with_the_longest_address_publishes(coalition, coordinator, signer, member_org,
                                                          django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org, slug="a" * 100)
    published = publish(statement, coordinator, django_capture_on_commit_callbacks)
    assert published.state == Publication.State.READY, published.failure
    assert published.pdf.name == f"publications/{'a' * 100}/issue-1.pdf"
    assert pdf.verify_pdf(published.pdf.read()).authentic


class WorkerKilled(BaseException):
    """What a SIGKILL (out of memory, time limit) looks like from inside: the run stops where it
    is, after its claim was committed and before anything else; nothing catches it."""


def test_an_issue_that_kills_its_worker_each_time_ends_failed_with_a_retry_button(
        coalition, coordinator, signer, member_org, client, settings, django_capture_on_commit_callbacks):
    settings.PUBLICATION_MAX_ATTEMPTS = 3
    statement = closed_statement(coalition, coordinator, signer, member_org)
    services.publish(statement, by=coordinator)  # its task is queued at a commit that never comes here
    publication = statement.publications.get()
    later = timezone.now()
    with mock.patch.object(pdf, "render_pdf", side_effect=WorkerKilled):
        for kill in range(4):  # the first run, then the sweep queueing the stale issue again
            later += timedelta(seconds=settings.PUBLICATION_STALE_SECONDS + 1)
            with mock.patch("django.utils.timezone.now", return_value=later):
                try:
                    tasks.prepare_stale_publications()
                except WorkerKilled:
                    assert kill < 3, "the fourth run must not start making the PDF again"
    publication.refresh_from_db()
    assert publication.state == Publication.State.FAILED and publication.attempts == 3
    assert publication.failure == "The PDF could not be made after 3 attempts; the worker stopped each time."
    later += timedelta(seconds=settings.PUBLICATION_STALE_SECONDS + 1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert tasks.prepare_stale_publications() == 0  # no longer queued again and again

    client.force_login(coordinator)
    page = client.get(statement.get_absolute_url()).content.decode()
    assert "The PDF could not be made after 3 attempts; the worker stopped each time." in page
    assert reverse("publication_retry", args=[statement.slug, 1]) in page and "Try again" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("publication_retry", args=[statement.slug, 1]))
    assert response.status_code == 302
    publication.refresh_from_db()
    assert publication.state == Publication.State.READY and publication.attempts == 1
    assert pdf.verify_pdf(publication.pdf.read()).authentic
    retried = AuditEvent.objects.get(action="statement.publication_retried")
    assert retried.data["attempts"] == 3

