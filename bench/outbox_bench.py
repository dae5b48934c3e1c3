"""How long one Celery worker takes to deliver a fan-out of 5,000 messages from the outbox to an
SMTP server on loopback.

For each batch size (`OUTBOX_BATCH_SIZE`: how many rows one task sends over one SMTP connection),
the benchmark writes the rows in one transaction, as a notification to every recipient would, and
times from the commit (when the tasks are queued) until the last row is recorded as sent. It
prints one JSON line per batch size: seconds to write the rows, seconds to deliver them, messages
per second, SMTP connections opened and messages received twice (there should be none).

Needs PostgreSQL and Redis, named as for the site; it makes a database of its own on that server
(`bench_outbox`) and drops it at the end, and uses a Redis queue of its own. Run from the project
folder:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/outbox_bench.py [--messages 5000] [--batch-sizes 1,100,500] [--concurrency 1]
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

    from statements import outbox
    from statements.models import OutboundEmail

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--batch-sizes", default="100", help="comma-separated, e.g. 1,100,500")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="processes of the one worker: 1 is the solo pool, more a prefork pool")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("CELERY_BROKER_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis): the worker is a separate process.")

    import django

    django.setup()
    from django.db import connection

    from coalition.celery import app as celery_app
    from statements import tasks
    from tests.smtp import LoopbackSMTP

    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
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
