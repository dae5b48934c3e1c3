"""A real `celery worker` process, against the real Redis broker."""

import time

import pytest
from django.core import mail

from coalition import services
from coalition.models import OutboundEmail
from statements import tasks


def test_a_real_worker_runs_a_task_enqueued_through_redis(start_worker):
    start_worker()
    token = f"hello-{time.time()}"
    # disable_sync_subtasks: another test may have started an in-process worker, which marks the
    # whole process as "inside a task"; this test is not.
    assert tasks.ping.delay(token).get(timeout=60, disable_sync_subtasks=False) == f"pong: {token}"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_an_invitation_from_the_outbox(
    start_worker, postgres_database, coalition, member_org, coordinator, tmp_path
):
    start_worker({"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(tmp_path)})
    services.invite(coalition, by=coordinator, email="worker-test@example.org", role="staff", organisation=member_org)
    row = OutboundEmail.objects.get(recipient="worker-test@example.org")
    deadline = time.time() + 60
    while time.time() < deadline:
        row.refresh_from_db()
        if row.sent_at:
            break
        time.sleep(0.3)
    assert row.sent_at is not None, row.last_error
    assert row.attempts == 1
    assert not mail.outbox  # it was the worker, not this process, that sent it
    written = "".join(path.read_text() for path in tmp_path.iterdir())
    assert "To: worker-test@example.org" in written and row.message_id in written
