"""The outbox: writing rows, delivering them once, batches, backoff, giving up, the sweep, and the
coordinators' page of undelivered email. Tasks run in-process; SMTP is a real server on loopback."""

import logging
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from coalition import outbox, services
from coalition import tasks as delivery_tasks
from coalition.models import AuditEvent, EmailOptOut, OutboundEmail
from statements import tasks

from . import factories

pytestmark = pytest.mark.django_db

TEST_TEMPLATES = Path(__file__).parent / "templates"


def write(n: int = 1, *, kind: str = "test", coalition=None, **extra) -> list[OutboundEmail]:
    """Write `n` rows. Inside a test's transaction nothing is delivered unless the test runs the
    on-commit callbacks (`django_capture_on_commit_callbacks(execute=True)`) or delivers itself."""
    rows = []
    for i in range(n):
        rows.append(outbox.enqueue_rendered(
            kind=kind, dedupe_key=f"{kind}:{i}:{time.monotonic_ns()}", recipient=f"person{i}@example.org",
            subject=f"Message {i}", text=f"Body {i}\n", coalition=coalition, **extra,
        ))
    return rows


@pytest.fixture
def smtp_backend(settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = smtp_server.host, smtp_server.port, 5
    return smtp_server


@pytest.fixture
def bulk_templates(settings):
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], TEST_TEMPLATES]}]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Writing ------------------------------------------------------------------------------------


def test_a_second_message_with_the_same_dedupe_key_writes_no_second_row():
    first = outbox.enqueue_rendered(kind="test", dedupe_key="same", recipient="a@example.org", subject="s", text="t")
    second = outbox.enqueue_rendered(kind="test", dedupe_key="same", recipient="a@example.org", subject="s", text="t")
    assert first is not None and second is None
    assert OutboundEmail.objects.filter(dedupe_key="same").count() == 1


def test_a_duplicate_that_slips_past_the_check_fails_alone_and_leaves_the_transaction_usable(monkeypatch):
    outbox.enqueue_rendered(kind="test", dedupe_key="race", recipient="a@example.org", subject="s", text="t")
    monkeypatch.setattr(outbox, "_unwanted", lambda *args: False)  # as if a concurrent writer got there first
    with transaction.atomic():
        assert outbox.enqueue_rendered(kind="test", dedupe_key="race", recipient="a@example.org",
                                       subject="s", text="t") is None
        assert OutboundEmail.objects.count() == 1


def test_each_message_has_a_stable_message_id_derived_from_its_dedupe_key():
    (row,) = write()
    outbox.deliver(row.pk)
    assert row.message_id == outbox.message_id_for(row.dedupe_key)
    assert row.message_id.startswith("<") and row.message_id.endswith("@example.org>")
    assert mail.outbox[0].extra_headers["Message-ID"] == row.message_id


def test_a_message_is_delivered_after_the_transaction_commits_and_not_if_it_rolls_back(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            (row,) = write()
            assert not mail.outbox
    row.refresh_from_db()
    assert row.sent_at and row.attempts == 1 and len(mail.outbox) == 1

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            write()
            raise RuntimeError("the event failed")
    assert not callbacks and OutboundEmail.objects.count() == 1 and len(mail.outbox) == 1


# Delivering ---------------------------------------------------------------------------------


def test_a_sent_row_is_never_sent_again():
    (row,) = write()
    assert outbox.deliver(row.pk) is True
    assert outbox.deliver(row.pk) is False
    assert outbox.deliver_batch([row.pk, row.pk]).skipped == 2
    delivery_tasks.deliver_email.delay(row.pk)
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.attempts == 1


def test_a_fan_out_goes_out_in_batches_over_one_smtp_connection_each(
    smtp_backend, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_BATCH_SIZE = 10
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), outbox.batched():
        rows = write(25)
    received = smtp_backend.wait_for(25, timeout=10)
    assert len(received) == 25
    assert smtp_backend.handler.connections == 3
    assert set(smtp_backend.message_id_counts()) == {row.message_id for row in rows}
    assert OutboundEmail.objects.filter(sent_at__isnull=False).count() == 25


def test_a_batch_queues_one_task_per_batch_not_one_per_message(settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.OUTBOX_BATCH_SIZE = 100
    queued = []
    monkeypatch.setattr(delivery_tasks.deliver_batch, "apply_async", lambda args, **kw: queued.append(args[0]))
    monkeypatch.setattr(delivery_tasks.deliver_email, "apply_async", lambda args, **kw: pytest.fail("one task per message"))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), outbox.batched():
        write(250)
    assert [len(batch) for batch in queued] == [100, 100, 50]


def test_a_temporary_refusal_is_retried_after_an_exponential_backoff(smtp_backend, settings):
    settings.OUTBOX_RETRY_BASE_SECONDS, settings.OUTBOX_RETRY_MAX_SECONDS = 60, 3600
    smtp_backend.refuse_next(2)
    (row,) = write()
    assert outbox.deliver(row.pk) is False
    row.refresh_from_db()
    assert row.attempts == 1 and not row.sent_at and not row.failed_at and "451" in row.last_error
    assert timedelta(seconds=59) < row.due_at - row.last_attempt_at <= timedelta(seconds=60)
    assert outbox.deliver(row.pk) is False  # not due yet: nothing is tried
    OutboundEmail.objects.filter(pk=row.pk).update(due_at=timezone.now())
    assert outbox.deliver(row.pk) is False
    row.refresh_from_db()
    assert row.attempts == 2 and timedelta(seconds=119) < row.due_at - row.last_attempt_at <= timedelta(seconds=120)
    OutboundEmail.objects.filter(pk=row.pk).update(due_at=timezone.now())
    assert outbox.deliver(row.pk) is True
    row.refresh_from_db()
    assert row.attempts == 3 and row.sent_at and row.last_error == ""
    assert len(smtp_backend.messages) == 1


def test_the_backoff_doubles_up_to_its_bound(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS, settings.OUTBOX_RETRY_MAX_SECONDS = 60, 3600
    assert [outbox.backoff(n) for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_delivery_gives_up_after_max_attempts_and_the_row_is_never_tried_again(smtp_backend, settings, caplog):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    smtp_backend.refuse_next(100)
    (row,) = write()
    for _ in range(4):
        OutboundEmail.objects.filter(pk=row.pk, failed_at__isnull=True).update(due_at=timezone.now())
        outbox.deliver(row.pk)
    row.refresh_from_db()
    assert row.attempts == 3 and row.failed_at and not row.sent_at
    assert smtp_backend.handler.refused == 3
    assert "Gave up on email" in caplog.text
    assert row.pk not in outbox.pending_ids()


def test_a_permanent_refusal_fails_at_once(smtp_backend):
    smtp_backend.refuse_next(1, reply="550 5.1.1 No such mailbox")
    (row,) = write()
    assert outbox.deliver_batch([row.pk]).failed == 1
    row.refresh_from_db()
    assert row.attempts == 1 and row.failed_at and "550" in row.last_error


def test_an_unreachable_mail_server_counts_one_attempt_for_each_row_of_the_batch(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    with outbox.batched():
        rows = write(3)
    outcome = outbox.deliver_batch([row.pk for row in rows])
    assert outcome.retrying == 3 and outcome.sent == 0
    for row in rows:
        row.refresh_from_db()
        assert row.attempts == 1 and row.due_at > timezone.now() and "Connection refused" in row.last_error


def test_a_message_scheduled_for_later_is_not_sent_before_its_due_time():
    (row,) = write(due_at=timezone.now() + timedelta(hours=2))
    assert not mail.outbox
    assert outbox.deliver(row.pk) is False
    assert row.pk not in outbox.pending_ids()


# The sweep ----------------------------------------------------------------------------------


def test_the_sweep_takes_due_unsent_rows_and_leaves_fresh_ones_to_their_own_task(settings, monkeypatch):
    settings.OUTBOX_SWEEP_GRACE_SECONDS = 120
    monkeypatch.setattr(outbox, "dispatch", lambda ids: None)  # write rows without delivering them
    old, fresh, sent, failed, later = write(5)
    long_ago = timezone.now() - timedelta(minutes=10)
    OutboundEmail.objects.filter(pk__in=[old.pk, sent.pk, failed.pk, later.pk]).update(created_at=long_ago)
    OutboundEmail.objects.filter(pk=sent.pk).update(sent_at=timezone.now())
    OutboundEmail.objects.filter(pk=failed.pk).update(failed_at=timezone.now())
    OutboundEmail.objects.filter(pk=later.pk).update(due_at=timezone.now() + timedelta(minutes=5))
    assert outbox.pending_ids() == [old.pk]


def test_the_sweep_delivers_what_was_left_unsent(settings, monkeypatch):
    settings.OUTBOX_SWEEP_GRACE_SECONDS = 0
    with monkeypatch.context() as patch:
        patch.setattr(outbox, "dispatch", lambda ids: None)  # the worker died; nothing was delivered
        rows = write(3)
    assert not mail.outbox
    assert tasks.deliver_pending.delay().get() == 3
    assert len(mail.outbox) == 3
    assert all(row.sent_at for row in OutboundEmail.objects.filter(pk__in=[r.pk for r in rows]))
    assert tasks.deliver_pending.delay().get() == 0


def test_a_broker_that_is_down_does_not_break_the_event_and_the_row_waits_for_the_sweep(
    coalition, member_org, coordinator, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(delivery_tasks.deliver_email, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite(coalition, by=coordinator, email="new@example.org", role="staff",
                                     organisation=member_org)
    assert invitation.pk
    row = OutboundEmail.objects.get(recipient="new@example.org")
    assert not row.sent_at and not mail.outbox
    assert "the outbox sweep will deliver it" in caplog.text


def test_a_fan_out_stops_queueing_at_the_first_broker_failure(
    settings, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    settings.OUTBOX_BATCH_SIZE = 10
    calls = []

    def broker_down(args, **kwargs):
        calls.append(args)
        raise OperationalError("connection refused")

    monkeypatch.setattr(delivery_tasks.deliver_batch, "apply_async", broker_down)
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True), outbox.batched():
        write(50)
    assert len(calls) == 1


# Two workers, one row (PostgreSQL row locks) --------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_the_same_row_at_once(postgres_database, smtp_backend, monkeypatch):
    monkeypatch.setattr(outbox, "dispatch", lambda ids: None)
    (row,) = write()
    smtp_backend.hold_message(1)
    results = {}

    def first_worker():
        results["first"] = outbox.deliver(row.pk)
        connection.close()

    thread = threading.Thread(target=first_worker)
    thread.start()
    assert smtp_backend.handler.holding.wait(10), "the first worker never reached the mail server"
    # While the first worker is sending, the row is locked: a second worker skips it at once.
    started = time.monotonic()
    assert outbox.deliver(row.pk) is False
    assert time.monotonic() - started < 2
    smtp_backend.release()
    thread.join(10)
    assert results["first"] is True
    assert outbox.deliver(row.pk) is False  # and once sent, never again
    assert len(smtp_backend.messages) == 1


# Bulk messages and opt-outs --------------------------------------------------------------------


def test_bulk_messages_carry_one_click_unsubscribe_headers_and_a_footer_link(bulk_templates):
    row = outbox.enqueue(kind=EmailOptOut.Kind.STATEMENT_PUBLISHED, dedupe_key="published:1:a",
                         recipient="Reader@Example.org", template="test_bulk", context={"title": "On Kherson"})
    assert outbox.deliver(row.pk)
    message = mail.outbox[0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message.extra_headers["List-Unsubscribe"]
    assert link.startswith(f"<{django_settings.SITE_URL}/unsubscribe/") and link.endswith("/>")
    assert link[1:-1] in row.body_text and link[1:-1] in row.body_html


def test_transactional_messages_carry_no_unsubscribe_header(coalition, member_org, coordinator):
    services.invite(coalition, by=coordinator, email="new@example.org", role="staff", organisation=member_org)
    row = OutboundEmail.objects.get()
    assert row.headers == {} and "List-Unsubscribe" not in outbox.build_message(row).message()


def test_no_row_is_written_for_a_recipient_who_opted_out_of_that_kind(bulk_templates):
    EmailOptOut.objects.create(email="reader@example.org", kind=EmailOptOut.Kind.STATEMENT_PUBLISHED)
    common = {"template": "test_bulk", "context": {"title": "T"}}
    assert outbox.enqueue(kind=EmailOptOut.Kind.STATEMENT_PUBLISHED, dedupe_key="p:1",
                          recipient="READER@example.org", **common) is None
    assert outbox.enqueue(kind=EmailOptOut.Kind.STATEMENT_OPENED, dedupe_key="o:1",
                          recipient="reader@example.org", **common) is not None
    assert list(OutboundEmail.objects.values_list("kind", flat=True)) == ["statement_opened"]


# The coordinators' page ---------------------------------------------------------------------


@pytest.fixture
def problems(coalition, monkeypatch):
    monkeypatch.setattr(outbox, "dispatch", lambda ids: None)
    failed, delayed, fine, elsewhere = write(4, coalition=coalition)
    now = timezone.now()
    OutboundEmail.objects.filter(pk=failed.pk).update(failed_at=now, attempts=8, last_error="SMTPRecipientsRefused: 451")
    OutboundEmail.objects.filter(pk=delayed.pk).update(attempts=2, last_error="ConnectionRefusedError",
                                                       due_at=now + timedelta(minutes=4))
    OutboundEmail.objects.filter(pk=elsewhere.pk).update(coalition=factories.CoalitionFactory(), failed_at=now)
    return {"failed": failed, "delayed": delayed, "fine": fine, "elsewhere": elsewhere}


def test_coordinators_see_failed_and_delayed_messages_of_their_coalition_only(client, coalition, coordinator, problems):
    client.force_login(coordinator)
    response = client.get(reverse("outbox_problems", args=[coalition.slug]))
    assert response.status_code == 200
    assert list(response.context["failed"]) == [problems["failed"]]
    assert list(response.context["delayed"]) == [problems["delayed"]]
    page = response.content.decode()
    assert problems["failed"].recipient in page and "SMTPRecipientsRefused: 451" in page
    assert problems["elsewhere"].subject not in page and problems["fine"].subject not in page
    assert "Try again" in page


def test_a_message_waiting_too_long_without_any_attempt_shows_as_delayed(client, coalition, coordinator, problems):
    OutboundEmail.objects.filter(pk=problems["fine"].pk).update(due_at=timezone.now() - timedelta(hours=1))
    client.force_login(coordinator)
    response = client.get(reverse("outbox_problems", args=[coalition.slug]))
    assert problems["fine"] in list(response.context["delayed"])


@pytest.mark.parametrize("who", ["staff", "signer", "outsider", "other_coordinator"])
def test_only_the_coalitions_coordinators_see_its_undelivered_email(client, coalition, who, request, problems):
    user = (factories.CoordinatorFactory().user if who == "other_coordinator" else request.getfixturevalue(who))
    client.force_login(user)
    assert client.get(reverse("outbox_problems", args=[coalition.slug])).status_code == 403
    retry = reverse("outbox_retry", args=[coalition.slug, problems["failed"].pk])
    assert client.post(retry).status_code == 403
    problems["failed"].refresh_from_db()
    assert problems["failed"].failed_at


def test_signed_out_visitors_are_sent_to_sign_in(client, coalition):
    response = client.get(reverse("outbox_problems", args=[coalition.slug]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_try_again_resets_a_failed_message_and_delivers_it(
    client, coalition, coordinator, problems, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.undo()  # deliver for real (in-process) from here on
    client.force_login(coordinator)
    url = reverse("outbox_retry", args=[coalition.slug, problems["failed"].pk])
    assert client.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("outbox_problems", args=[coalition.slug])
    row = OutboundEmail.objects.get(pk=problems["failed"].pk)
    assert row.sent_at and not row.failed_at and row.attempts == 1
    assert [m.to for m in mail.outbox] == [[row.recipient]]
    assert AuditEvent.objects.filter(action="email.retried", object_id=str(row.pk), actor=coordinator).exists()


def test_try_again_on_a_message_already_sent_changes_nothing(client, coalition, coordinator):
    (row,) = write(coalition=coalition)
    outbox.deliver(row.pk)
    client.force_login(coordinator)
    response = client.post(reverse("outbox_retry", args=[coalition.slug, row.pk]), follow=True)
    assert "sent already" in response.content.decode()
    assert len(mail.outbox) == 1


def test_coordinators_find_the_page_from_the_coalition_page(client, coalition, coordinator):
    client.force_login(coordinator)
    page = client.get(coalition.get_absolute_url()).content.decode()
    assert reverse("outbox_problems", args=[coalition.slug]) in page
