"""Delivery survives faults: a real Celery worker (with beat's sweep) against Redis and a real SMTP
server on loopback. A worker killed mid-batch, Redis down when an event happens, and an SMTP
server that refuses for a while: every message still arrives, and only a message in flight at
the moment of a kill may arrive twice, with the same Message-ID.

These need PostgreSQL (the worker shares the test database) and Redis; they skip without them, and
fail under REQUIRE_SERVICES=1. Redis outages use a private redis-server of the test's own, never
the shared one."""

import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from shutil import which

import pytest
from django.db import transaction

from coalition import outbox, services
from coalition.celery import app as celery_app
from coalition.models import OutboundEmail

from .conftest import need_service

pytestmark = pytest.mark.django_db(transaction=True)

# The sweep runs every second in these tests, and retries wait half a second, doubling.
FAST_SWEEP = {"OUTBOX_SWEEP_SECONDS": "1", "OUTBOX_SWEEP_GRACE_SECONDS": "1", "OUTBOX_RETRY_BASE_SECONDS": "0.5"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own, to stop and start without touching the shared one."""

    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def private_redis(tmp_path):
    need_service("redis-server (a private Redis to stop and start)", bool(which("redis-server")))
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


def _repoint(url: str | None) -> None:
    # The write URL, because Celery reads CELERY_BROKER_URL from the environment before broker_url.
    celery_app.conf.broker_write_url = url
    # Drop the app's references only: kombu keeps one pool per broker URL for the whole process.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker(url: str):
    """Send this process's tasks to another broker for the duration."""
    previous = celery_app.conf.get("broker_write_url")
    _repoint(url)
    try:
        yield
    finally:
        _repoint(previous)


def wait_until(condition, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(interval)
    return condition()


def write_rows(n: int, coalition=None) -> list[OutboundEmail]:
    with transaction.atomic(), outbox.batched():
        return [
            outbox.enqueue_rendered(kind="test", dedupe_key=f"fault:{i}", recipient=f"member{i}@example.org",
                                    subject=f"Message {i}", text=f"Body {i}\n", coalition=coalition)
            for i in range(n)
        ]


# Publishing to a broker that is down --------------------------------------------------------


@pytest.mark.django_db(transaction=False)
def test_an_event_commits_at_once_when_the_broker_is_down_and_the_row_waits_for_the_sweep(
    coalition, member_org, coordinator, caplog, django_capture_on_commit_callbacks
):
    celery_app.conf.task_always_eager = False
    with broker(f"redis://127.0.0.1:{free_port()}/0"):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            services.invite(coalition, by=coordinator, email="new@example.org", role="staff", organisation=member_org)
        elapsed = time.monotonic() - started
    assert elapsed < 5, f"queueing to a dead broker took {elapsed:.1f} s"
    row = OutboundEmail.objects.get(recipient="new@example.org")
    assert not row.sent_at and not row.attempts
    assert "the outbox sweep will deliver it" in caplog.text


# With a real worker -------------------------------------------------------------------------


def test_a_worker_killed_mid_batch_and_restarted_loses_nothing_and_doubles_only_the_message_in_flight(
    postgres_database, private_redis, smtp_server, start_worker, settings, coalition
):
    settings.OUTBOX_BATCH_SIZE = 100
    total, in_flight = 300, 150  # the 50th message of the second batch
    smtp_server.hold_message(in_flight)
    worker_env = {**smtp_server.env(), "CELERY_BROKER_URL": private_redis.url, "CELERY_VISIBILITY_TIMEOUT": "3"}
    with broker(private_redis.url):
        first = start_worker(worker_env)
        rows = write_rows(total, coalition)
        assert smtp_server.handler.holding.wait(60), "the worker never reached the message to be held"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        smtp_server.release()
        # Every message before the one in flight was recorded as sent before the next was sent.
        assert OutboundEmail.objects.filter(sent_at__isnull=False).count() == in_flight - 1

        time.sleep(3)  # past the visibility timeout: Redis hands the killed batch out again, too
        start_worker({**worker_env, **FAST_SWEEP}, beat=True)
        all_sent = wait_until(lambda: not OutboundEmail.objects.filter(sent_at__isnull=True).exists(), timeout=60)
    assert all_sent, f"{OutboundEmail.objects.filter(sent_at__isnull=True).count()} messages were never sent"
    smtp_server.wait_for(total + 1, timeout=10)
    time.sleep(1)  # nothing more should arrive
    counts = smtp_server.message_id_counts()
    held = smtp_server.messages[in_flight - 1]["Message-ID"]
    assert set(counts) == {row.message_id for row in rows}, "a message was lost"
    assert {message_id for message_id, n in counts.items() if n > 1} == {held}
    assert counts[held] == 2 and sum(counts.values()) == total + 1


def test_an_event_while_redis_is_down_is_delivered_once_redis_is_back(
    postgres_database, private_redis, smtp_server, start_worker, coalition, member_org, coordinator, caplog
):
    with broker(private_redis.url):
        start_worker({**smtp_server.env(), **FAST_SWEEP, "CELERY_BROKER_URL": private_redis.url}, beat=True)
        write_rows(1, coalition)  # the worker is up and delivering
        assert len(smtp_server.wait_for(1, timeout=60)) == 1

        private_redis.stop()
        started = time.monotonic()
        services.invite(coalition, by=coordinator, email="during-outage@example.org", role="staff",
                        organisation=member_org)
        assert time.monotonic() - started < 5, "the event waited for Redis"
        assert "the outbox sweep will deliver it" in caplog.text
        time.sleep(2)
        assert len(smtp_server.messages) == 1
        private_redis.start()  # back, empty: whatever was queued in it is gone

        row = wait_until(lambda: OutboundEmail.objects.filter(recipient="during-outage@example.org",
                                                              sent_at__isnull=False).first(), timeout=60)
    assert row, "the message was never delivered after Redis came back"
    received = [m for m in smtp_server.messages if m["To"] == "during-outage@example.org"]
    assert [m["Message-ID"] for m in received] == [row.message_id]
    assert row.attempts == 1


def test_a_statement_opened_while_redis_is_down_is_told_to_everyone_once_redis_is_back(
    postgres_database, private_redis, smtp_server, start_worker, coalition, member_org, coordinator, signer, caplog
):
    from statements import services as statement_services
    from statements.models import FanOut

    from .factories import make_statement

    statement = make_statement(coalition, by=coordinator, title="Free the hostages")
    with broker(private_redis.url):
        start_worker({**smtp_server.env(), **FAST_SWEEP, "CELERY_BROKER_URL": private_redis.url}, beat=True)
        write_rows(1, coalition)  # the worker is up and delivering
        assert len(smtp_server.wait_for(1, timeout=60)) == 1

        private_redis.stop()
        started = time.monotonic()
        statement_services.open_for_signature(statement, by=coordinator, deadline=None)
        assert time.monotonic() - started < 5, "opening waited for Redis"
        assert "the outbox sweep will run it" in caplog.text
        assert FanOut.objects.get().done_at is None and not OutboundEmail.objects.filter(kind="statement_opened")
        private_redis.start()  # back, empty: the fan-out's task was never queued

        told = wait_until(lambda: {m["To"] for m in smtp_server.messages} >= {signer.email, coordinator.email},
                          timeout=60)
    assert told, "the opening was never told after Redis came back"
    time.sleep(2)  # nothing more should arrive
    opened = [m for m in smtp_server.messages if "Free the hostages" in m["Subject"]]
    assert sorted(m["To"] for m in opened) == sorted([signer.email, coordinator.email])
    assert FanOut.objects.get().done_at is not None


def test_a_message_the_smtp_server_refuses_for_a_while_goes_out_after_the_backoff(
    postgres_database, smtp_server, start_worker, coalition, member_org, coordinator
):
    smtp_server.refuse_next(3)
    start_worker({**smtp_server.env(), **FAST_SWEEP}, beat=True)
    started = time.monotonic()
    services.invite(coalition, by=coordinator, email="refused@example.org", role="staff", organisation=member_org)
    sent = wait_until(lambda: OutboundEmail.objects.filter(recipient="refused@example.org", sent_at__isnull=False)
                      .first(), timeout=60)
    elapsed = time.monotonic() - started
    assert sent, "the message was never delivered"
    assert [m["Message-ID"] for m in smtp_server.messages] == [sent.message_id]
    assert smtp_server.handler.refused == 3
    assert sent.attempts == 4 and not sent.failed_at
    # Three waits of 0.5, 1 and 2 s (each rounded up to the next sweep) came before the fourth attempt.
    assert elapsed >= 3.5
