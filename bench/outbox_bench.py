"""How long one Celery worker takes to deliver a fan-out of 5,000 messages from the outbox to an
SMTP server on loopback.

For each batch size (`OUTBOX_BATCH_SIZE`: how many rows one task sends over one SMTP connection),
the benchmark writes the rows in one transaction, as a notification to every recipient would, and
times from the commit (when the tasks are queued) until the last row is recorded as sent. It
prints one JSON line per batch size: seconds to write the rows, seconds to deliver them, messages
per second, SMTP connections opened and messages received twice (there should be none).

With `--cases write` (or the default `write,delivery`) it first measures what issue 13 asked of
fan-outs, side by side in one run: the fan-out path (`statements.fanouts.run`, the task behind a
published issue: it finds 5,000 recipients, renders each language once, checks opt-outs and dedupe
keys and writes the outbox rows in bulk) against a bulk INSERT (`bulk_create`) of the very same
rows, and, with `--one-by-one`, against writing them one `outbox.enqueue()` at a time as before.
Each is run `--rounds` times after one that warms up; the JSON line gives the best of each and
the ratio.

Needs PostgreSQL and Redis, named as for the site (the write case alone needs only PostgreSQL);
it makes a database of its own on that server (`bench_outbox`) and drops it at the end, and uses a
Redis queue of its own. Run from the project folder:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/outbox_bench.py [--messages 5000] [--batch-sizes 1,100,500] [--concurrency 1] \\
        [--cases write,delivery] [--rounds 3] [--one-by-one]
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coalition.settings")
os.environ["TEST_DATABASE_NAME"] = "bench_outbox"

BODY = (
    "The coalition has opened a statement for signature. Read the text and sign for your "
    "organisation before the deadline.\n\n"
) * 8


def database_url(settings_dict: dict) -> str:
    auth = quote(settings_dict["USER"] or "") + (":" + quote(settings_dict["PASSWORD"]) if settings_dict["PASSWORD"] else "")
    return (f"postgres://{auth}@{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}"
            f"/{settings_dict['NAME']}")


def start_worker(queue: str, env: dict, concurrency: int) -> subprocess.Popen:
    pool = ["--pool=solo"] if concurrency == 1 else ["--pool=prefork", f"--concurrency={concurrency}"]
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "coalition", "worker", *pool, "--loglevel=WARNING",
         "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{queue}@%h"],
        cwd=ROOT, env={**os.environ, **env, "CELERY_QUEUE": queue},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(10)
    try:  # pool processes left behind, in the worker's own process group
        os.killpg(worker.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_case(messages: int, batch_size: int, concurrency: int, smtp) -> dict:
    from django.db import transaction
    from django.test import override_settings

    from coalition import outbox
    from coalition.models import OutboundEmail

    OutboundEmail.objects.all().delete()
    connections_before, received_before = smtp.handler.connections, smtp.count
    run = uuid.uuid4().hex[:8]
    with override_settings(OUTBOX_BATCH_SIZE=batch_size):
        started = time.perf_counter()
        with transaction.atomic(), outbox.batched():
            for i in range(messages):
                outbox.enqueue_rendered(
                    kind="bench", dedupe_key=f"bench:{run}:{i}", recipient=f"member{i}@example.org",
                    subject=f"A statement is open for signature ({i})", text=BODY,
                    html="<p>" + BODY.replace("\n\n", "</p><p>") + "</p>",
                )
            written = time.perf_counter()
        # The commit has run: the tasks are queued. Wait for the worker to record every row sent.
        while OutboundEmail.objects.filter(sent_at__isnull=True).exists():
            time.sleep(0.05)
        delivered = time.perf_counter()
    headers = BytesHeaderParser(policy=policy.default)
    ids = [headers.parsebytes(raw)["Message-ID"] for raw in smtp.handler.received[received_before:]]
    deliver_seconds = delivered - written
    return {
        "bench": "outbox_delivery", "messages": messages, "batch_size": batch_size, "workers": 1,
        "worker_processes": concurrency,
        "write_seconds": round(written - started, 3), "deliver_seconds": round(deliver_seconds, 3),
        "messages_per_second": round(messages / deliver_seconds, 1),
        "smtp_connections": smtp.handler.connections - connections_before,
        "received": len(ids), "received_twice": len(ids) - len(set(ids)),
    }


def write_fixture(messages: int):
    """A published issue of a closed statement, and `messages` confirmed subscribers (a third of
    them reading Ukrainian), as a campaign's mailing list would be."""
    from django.utils import timezone

    from statements.models import Publication, Subscriber
    from tests.factories import CoalitionFactory, CoordinatorFactory, make_statement

    coalition = CoalitionFactory(name="Bench Coalition", slug="bench-coalition")
    coordinator = CoordinatorFactory(coalition=coalition).user
    statement = make_statement(coalition, by=coordinator, status="closed", title="Stop the deportations")
    publication = Publication.objects.create(statement=statement, number=1, revision=statement.signed_revision,
                                             created_by=coordinator, state=Publication.State.READY)
    now = timezone.now()
    Subscriber.objects.bulk_create(
        [Subscriber(email=f"reader{i}@example.org", language="uk" if i % 3 == 0 else "en", confirmed_at=now)
         for i in range(messages)], batch_size=2000)
    return publication


def run_write_case(messages: int, rounds: int, one_by_one: bool) -> dict:
    """The fan-out path against a bulk INSERT of the same rows (and, optionally, the old
    one-row-at-a-time path), best of `rounds` each, alternating."""
    from coalition import outbox
    from statements import fanouts

    # Here the fan-out's task is called directly, and delivery is the other case's business:
    # nothing is queued.
    saved = outbox.dispatch, fanouts.queue
    outbox.dispatch, fanouts.queue = (lambda ids: None), (lambda fan_out_id: True)
    try:
        return _write_rounds(write_fixture(messages), messages, rounds, one_by_one)
    finally:
        outbox.dispatch, fanouts.queue = saved


def _write_rounds(publication, messages: int, rounds: int, one_by_one: bool) -> dict:
    from django.db import transaction

    from coalition import outbox
    from coalition.models import OutboundEmail
    from statements import fanouts, notifications
    from statements.models import FanOut

    timings: dict[str, list[float]] = {"fan_out": [], "bulk_insert": [], "one_by_one": []}
    for _round in range(rounds + 1):  # the first round warms up (templates, queries) and is not kept
        OutboundEmail.objects.filter(kind="statement_published").delete()
        FanOut.objects.filter(publication=publication).delete()
        with transaction.atomic():
            notifications.publication_released(publication)  # what the request does: one row
        fan_out_id = FanOut.objects.get(publication=publication).pk
        started = time.perf_counter()
        written = fanouts.run(fan_out_id, notifications.FAN_OUT_WRITERS)
        timings["fan_out"].append(time.perf_counter() - started)
        assert written == messages, written

        rows = list(OutboundEmail.objects.filter(kind="statement_published"))
        OutboundEmail.objects.filter(kind="statement_published").delete()
        for row in rows:
            row.pk = None
        started = time.perf_counter()
        with transaction.atomic():
            OutboundEmail.objects.bulk_create(rows, batch_size=outbox.WRITE_BATCH_SIZE)
        timings["bulk_insert"].append(time.perf_counter() - started)

        if one_by_one:
            OutboundEmail.objects.filter(kind="statement_published").delete()
            started = time.perf_counter()
            with transaction.atomic(), outbox.batched():
                context = {"publication": publication, "statement": publication.statement,
                           "revision": publication.revision, "pdf_url": "https://example.org/pdf/",
                           "statement_url": "https://example.org/s/", "signed": False}
                for row in rows:
                    outbox.enqueue(kind=row.kind, dedupe_key=row.dedupe_key, recipient=row.recipient,
                                   template="publication_released", context=context, language=row.language,
                                   coalition=publication.statement.coalition)
            timings["one_by_one"].append(time.perf_counter() - started)
    best = {name: round(min(values[1:]), 3) for name, values in timings.items() if values}
    result = {"bench": "outbox_write", "messages": messages, "rounds": rounds,
              "fan_out_seconds": best["fan_out"], "bulk_insert_seconds": best["bulk_insert"],
              "fan_out_vs_bulk_insert": round(best["fan_out"] / best["bulk_insert"], 2)}
    if one_by_one:
        result.update(one_by_one_seconds=best["one_by_one"],
                      one_by_one_vs_bulk_insert=round(best["one_by_one"] / best["bulk_insert"], 2))
    OutboundEmail.objects.all().delete()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--batch-sizes", default="100", help="comma-separated, e.g. 1,100,500")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="processes of the one worker: 1 is the solo pool, more a prefork pool")
    parser.add_argument("--cases", default="write,delivery", help="write, delivery or both")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the write case (best is kept)")
    parser.add_argument("--one-by-one", action="store_true",
                        help="the write case also times writing the rows one enqueue() at a time")
    args = parser.parse_args()
    cases = set(args.cases.split(","))
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL (PostgreSQL).")
    if "delivery" in cases and not os.environ.get("CELERY_BROKER_URL"):
        sys.exit("Set CELERY_BROKER_URL (Redis) for the delivery case: the worker is a separate process.")

    import django

    django.setup()
    from django.db import connection

    from coalition.celery import app as celery_app
    from statements import tasks
    from tests.smtp import LoopbackSMTP

    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    if "write" in cases:
        try:
            print(json.dumps(run_write_case(args.messages, args.rounds, args.one_by_one)), flush=True)
        finally:
            if "delivery" not in cases:
                connection.creation.destroy_test_db(original_name, verbosity=0)
        if "delivery" not in cases:
            return
    queue = f"bench-{uuid.uuid4().hex[:10]}"
    celery_app.conf.task_default_queue = queue
    smtp = LoopbackSMTP().start()
    worker = start_worker(queue, {**smtp.env(), "DATABASE_URL": database_url(connection.settings_dict)},
                          args.concurrency)
    try:
        tasks.ping.delay("ready").get(timeout=60)  # the worker is up
        for batch_size in (int(size) for size in args.batch_sizes.split(",")):
            print(json.dumps(run_case(args.messages, batch_size, args.concurrency, smtp)), flush=True)
    finally:
        stop_worker(worker)
        smtp.stop()
        connection.creation.destroy_test_db(original_name, verbosity=0)


if __name__ == "__main__":
    main()
