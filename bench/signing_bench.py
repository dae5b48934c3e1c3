"""How many individual signatures per second the sign endpoint takes, against gunicorn with two
workers on PostgreSQL.

Each submission is a real POST of the sign form (name, affiliation, a unique email address, CSRF
token) to /statements/<slug>/sign/, from CONCURRENCY clients at once; each must create its
signature (not yet confirmed) and its confirmation email in the outbox, and answer with the
redirect to "check your email". Afterwards the rows are counted: one signature and one outbox row
per submission, no address twice, none lost. Rate limits are lifted for the run
(SIGNING_RATE_LIMITS_ENABLED=0); delivery tasks go to a Redis queue of the run's own, which is
deleted at the end (no worker delivers them: sending email is not what is measured).

Needs PostgreSQL and Redis, named as for the site; it makes a database of its own on that server
(`bench_signing`) and drops it at the end. Prints one JSON line per run. From the project folder:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/signing_bench.py [--requests 3000] [--concurrency 10] [--workers 2] [--runs 3]
"""

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import string
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coalition.settings")
os.environ["TEST_DATABASE_NAME"] = "bench_signing"
os.environ["SIGNING_RATE_LIMITS_ENABLED"] = "0"

SLUG = "bench-open-statement"
# Django accepts the unmasked 32-character CSRF secret as the form's token, so the clients need no
# page load to get one.
CSRF = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def database_url(settings_dict: dict) -> str:
    auth = quote(settings_dict["USER"] or "") + (":" + quote(settings_dict["PASSWORD"]) if settings_dict["PASSWORD"] else "")
    return (f"postgres://{auth}@{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}"
            f"/{settings_dict['NAME']}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed() -> None:
    from coalition.models import Coalition, CoalitionRole, User
    from statements import services

    coalition = Coalition.objects.create(name="Bench Coalition", slug="bench")
    coordinator = User.objects.create_user("coordinator@example.org", "x", name="Coordinator")
    CoalitionRole.objects.create(user=coordinator, coalition=coalition)
    draft = services.Draft("A statement to sign", "Open to everyone.", "We call on every state party to act.\n\n" * 20)
    statement = services.create_draft(coalition, by=coordinator, draft=draft, language="en",
                                      allows_individuals=True, slug=SLUG)
    services.open_for_signature(statement, by=coordinator, deadline=None)


def start_gunicorn(port: int, workers: int, threads: int, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "coalition.wsgi", "-w", str(workers), "--threads", str(threads),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, **env}, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    sys.exit("gunicorn did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


async def post(port: int, body: bytes) -> tuple[int, float]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST /statements/{SLUG}/sign/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        f"Cookie: csrftoken={CSRF}\r\nAccept-Language: en\r\n\r\n".encode() + body
    )
    await writer.drain()
    status_line = await reader.readline()
    await reader.read()  # to the end: the sync worker closes the connection
    writer.close()
    return int(status_line.split()[1]), time.perf_counter() - started


async def load(port: int, requests: int, concurrency: int, run: str) -> tuple[float, list[int], list[float]]:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    statuses, latencies = [], []

    async def client():
        while not queue.empty():
            i = queue.get_nowait()
            body = urlencode({"csrfmiddlewaretoken": CSRF, "name": f"Person {i}", "affiliation": "Bench",
                              "email": f"person-{run}-{i}@example.org", "website": ""}).encode()
            status, seconds = await post(port, body)
            statuses.append(status)
            latencies.append(seconds)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - started, statuses, latencies


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> float:
    """User + system CPU time of these processes so far (0 for one that has gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def web_pids(server: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [server.pid, *map(int, children)]


def database_pids() -> list[int]:
    """The PostgreSQL backends serving the benchmark's database (the web workers' connections)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return [row[0] for row in cursor.fetchall()]


class DatabaseCpu(threading.Thread):
    """Samples the database backends' CPU time twice a second: the web workers' connections are
    replaced every CONN_MAX_AGE seconds, so a backend may start or end during a run."""

    def __init__(self):
        super().__init__(daemon=True)
        self.first = {pid: cpu_seconds([pid]) for pid in database_pids()}
        self.last = dict(self.first)
        self.done = threading.Event()

    def run(self):
        from django.db import connection

        try:
            while not self.done.wait(0.5):
                self.sample()
        finally:
            connection.close()

    def sample(self):
        for pid in database_pids():
            self.first.setdefault(pid, 0.0)  # started during the run
            self.last[pid] = cpu_seconds([pid]) or self.last.get(pid, 0.0)

    def stop(self) -> float:
        self.done.set()
        self.join()
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def count(run: str) -> dict:
    from django.db.models import Count
    from django.db.models.functions import Lower

    from coalition.models import OutboundEmail
    from statements.models import Signature

    prefix = f"person-{run}-"
    signatures = Signature.objects.filter(email__startswith=prefix)
    emails = OutboundEmail.objects.filter(kind="signature_confirmation", recipient__startswith=prefix)
    return {
        "signatures": signatures.count(),
        "outbox_rows": emails.count(),
        "addresses_signed_twice": signatures.values(lower=Lower("email")).annotate(n=Count("id")).filter(n__gt=1).count(),
        "addresses_emailed_twice": emails.values("recipient").annotate(n=Count("id")).filter(n__gt=1).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (1: sync workers)")
    args = parser.parse_args()
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not broker.startswith("redis"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis).")

    import django

    django.setup()
    import redis
    from django.db import connection

    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    queue = f"bench-signing-{uuid.uuid4().hex[:10]}"
    port = free_port()
    server = None
    try:
        seed()
        env = {"DATABASE_URL": database_url(connection.settings_dict), "CELERY_QUEUE": queue, "DEBUG": "0",
               "SECRET_KEY": "bench-" + secrets.token_hex(16), "MFA_ENCRYPTION_KEYS": "YmVuY2gtb25seS1tZmEta2V5LTMyLWJ5dGVzLWxvbmc=",
               "ALLOWED_HOSTS": "127.0.0.1",
               "AUDIT_HASH_KEY": "bench-only-audit-hash-key",
               "SECURE_SSL_REDIRECT": "0", "SIGNING_RATE_LIMITS_ENABLED": "0", "LOG_LEVEL": "WARNING"}
        server = start_gunicorn(port, args.workers, args.threads, env)
        asyncio.run(load(port, 100, args.concurrency, "warmup"))
        for _ in range(args.runs):
            run = uuid.uuid4().hex[:8]
            web = web_pids(server)
            web_before, database = cpu_seconds(web), DatabaseCpu()
            database.start()
            seconds, statuses, latencies = asyncio.run(load(port, args.requests, args.concurrency, run))
            web_cpu, db_cpu = cpu_seconds(web) - web_before, database.stop()
            rows = count(run)
            ok = statuses.count(302)
            latencies.sort()
            print(json.dumps({
                "bench": "individual_sign_submissions", "requests": args.requests, "concurrency": args.concurrency,
                "gunicorn_workers": args.workers, "threads": args.threads, "seconds": round(seconds, 2),
                "per_second": round(args.requests / seconds, 1),
                "p50_ms": round(statistics.median(latencies) * 1000, 1),
                "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
                # CPU spent per submission by the web workers and by their database backends:
                # steadier than wall time on a shared machine.
                "web_cpu_ms": round(web_cpu / args.requests * 1000, 2),
                "db_cpu_ms": round(db_cpu / args.requests * 1000, 2),
                "answered_302": ok, "other_answers": {str(s): statuses.count(s) for s in set(statuses) if s != 302},
                **rows, "lost": ok - rows["signatures"] + ok - rows["outbox_rows"],
            }), flush=True)
    finally:
        if server is not None:
            stop(server)
        redis.Redis.from_url(broker).delete(queue)
        connection.creation.destroy_test_db(original_name, verbosity=0)


if __name__ == "__main__":
    main()
