"""How fast the public archive answers under gunicorn, beside a static file (the ceiling).

Builds a throwaway SQLite database (published statements for the archive, and one statement
with 1,000 signatories and its signed PDF), starts gunicorn with 2 sync workers on 127.0.0.1
with DEBUG off, and sends each page a bounded number of requests (`--requests`, at most
`--seconds`) from `--concurrency` client threads, after a warm-up. Targets:

- ``static``: /static/css/site.css served by WhiteNoise in the same gunicorn (the ceiling);
- ``archive``: /statements/, as a visitor who is not signed in gets it (cached);
- ``archive_search``: /statements/?q=... (cached per query);
- ``statement_1000``: the statement page with 1,000 signatories (cached);
- ``statement_1000_uncached``: the same page with a new query string each time, so every
  request renders it (what a visitor meets right after a change).

The targets take turns for `--rounds` rounds (so a busy neighbour on a shared machine slows
them all alike) and each target's best round is kept. Prints one JSON line per target (requests
per second, p50 and p99 latency in ms, and the ratio of its requests per second to the static
file's). Load goes only to 127.0.0.1. Run from the
project folder:

    .venv/bin/python bench/archive_bench.py [--requests 3000] [--seconds 30] [--concurrency 8] [--rounds 3]
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from itertools import count
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(folder: Path) -> dict:
    return {
        "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(folder / "media"),
        "SIGNING_KEY_FILE": str(folder / "signing" / "signing-key.pem"),
        "SIGNING_CERT_FILE": str(folder / "signing" / "signing-cert.pem"),
        "SIGNING_ROOT_CERT_FILE": str(folder / "signing" / "root-cert.pem"),
        "DJANGO_SETTINGS_MODULE": "coalition.settings",
    }


def build(folder: Path) -> dict:
    """The database the server reads: 40 published statements and one with 1,000 signatories."""
    from unittest import mock

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # 1,000 "published" emails

    from coalition.models import Organisation
    from statements import pdf_signing, services, tasks
    from statements.models import Signature
    from tests import factories
    from tests.factories import make_statement

    pdf_signing.create_development_identity(folder / "signing", name="Bench Coalition")
    call_command("migrate", verbosity=0)
    coalition = factories.CoalitionFactory(name="Ukraine 5AM Coalition", slug="u5am")
    coordinator = factories.CoordinatorFactory(coalition=coalition).user
    with mock.patch.object(tasks.prepare_publication, "delay_on_commit"):  # their PDFs are not needed
        for n in range(40):
            make_statement(coalition, by=coordinator, status="published", title=f"Statement {n} on the war",
                           summary="The coalition's position.", body="Deportation of children. " * 80)
    statement = make_statement(coalition, by=coordinator, status="open", title="A thousand signatories",
                               summary="Signed widely.", body="We call on the states. " * 200, allows_individuals=True)
    revision = statement.signed_revision
    organisations = Organisation.objects.bulk_create(
        Organisation(name=f"Organisation {n}", slug=f"organisation-{n}") for n in range(500))
    Signature.objects.bulk_create(
        [Signature(statement=statement, revision=revision, sha256=revision.sha256, kind="organisation",
                   organisation=o, signed_by=coordinator) for o in organisations]
        + [Signature(statement=statement, revision=revision, sha256=revision.sha256, kind="individual",
                     name=f"Person {n}", affiliation="Lawyer", email=f"p{n}@example.org",
                     confirmed_at=statement.opened_at) for n in range(500)])
    services.close_signing(statement, by=coordinator)
    services.publish(statement, by=coordinator)  # tasks run in-process: the signed PDF is made here
    assert statement.publications.get().is_public, "the PDF of the 1,000-signatory statement was not made"
    return {"statement": statement.get_absolute_url()}


def fetch(port: int, path: str) -> float:
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        head = conn.recv(65536)
        while conn.recv(65536):
            pass
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"{path}: {head[:80]!r}")
    return time.perf_counter() - started


def load(port: int, paths, requests: int, seconds: float, concurrency: int) -> dict:
    """`paths()` gives the path of each request; returns requests per second and latencies."""
    latencies: list[float] = []
    issued = count()
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()

    def worker():
        mine = []
        while next(issued) < requests and time.perf_counter() < deadline:
            mine.append(fetch(port, paths()))
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="archive-bench-"))
    env = {**os.environ, **environment(folder)}
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):  # tasks in-process, cache per worker (locmem)
        env.pop(name, None)
    os.environ.update(environment(folder))
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    targets = build(folder)

    server_env = {**env, "DEBUG": "0", "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
                  "AUDIT_HASH_KEY": "bench-only-audit-hash-key",
                  "MFA_ENCRYPTION_KEYS": "YmVuY2gtb25seS1tZmEta2V5LTMyLWJ5dGVzLWxvbmc=",
                  "ALLOWED_HOSTS": "127.0.0.1", "SITE_URL": "http://127.0.0.1",
                  "SECURE_SSL_REDIRECT": "0"}  # TLS ends at the proxy in front, not measured here
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT,
                   env=server_env, check=True)
    subprocess.run([sys.executable, "manage.py", "compilemessages", "--ignore=.venv", "-v", "0"], cwd=ROOT,
                   env=server_env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "coalition.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning"], cwd=ROOT, env=server_env, start_new_session=True)
    try:
        for _ in range(100):
            try:
                fetch(port, "/healthz")
                break
            except (OSError, RuntimeError):
                time.sleep(0.2)
        unique = count()
        statement = targets["statement"]
        cases = {
            "static": lambda: "/static/css/site.css",
            "archive": lambda: "/statements/",
            "archive_search": lambda: "/statements/?q=deportation",
            "statement_1000": lambda: statement,
            "statement_1000_uncached": lambda: f"{statement}?v={next(unique)}",
        }
        for name, paths in cases.items():
            load(port, paths, 100, 10, args.concurrency)  # warm-up: each worker's cache, connections
        results = {}
        for _round in range(args.rounds):  # targets in turn, so a busy neighbour slows all alike
            for name, paths in cases.items():
                result = load(port, paths, args.requests // args.rounds, args.seconds / args.rounds,
                              args.concurrency)
                if name not in results or result["rps"] > results[name]["rps"]:
                    results[name] = result
        ceiling = results["static"]["rps"]
        for name, result in results.items():
            print(json.dumps({"target": name, **result, "ratio_to_static": round(result["rps"] / ceiling, 3),
                              "workers": 2, "concurrency": args.concurrency}))
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
