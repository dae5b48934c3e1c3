"""CPU per request of the statement page in one process, beside the static file and /healthz:
robust on a shared, busy machine where wrk's rates move 2-5x between rounds.

Seeds a PostgreSQL database of its own (`bench_page_cpu`, dropped at the end) the way
bench/page_bench.py does (one open statement with SIZE confirmed individual signatures), with
the cache in a Redis database of the run's own (`--redis-db`, emptied at the start and the end),
then calls Django's WSGI handler (DEBUG=0) in a loop and prints, per case, the CPU time
(time.process_time) and the queries per request as JSON lines:

- ``static``: /static/css/site.css through WhiteNoise;
- ``healthz``: /healthz;
- ``anon``: the statement page as a visitor who is not signed in gets it (the stored copy);
- ``anon_uk``: the same with `Accept-Language: uk` (a second stored copy);
- ``member``: the same page signed in as a member organisation's staff.

`--profile member` (or another case) prints cProfile's top functions for that case instead, in CPU
time (`PAGE_CPU_WALL=1`: wall-clock; `PAGE_CPU_SORT=tottime`; `PAGE_CPU_LINES=200`;
`PAGE_CPU_SHOW_QUERIES=1` lists the queries).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/page_cpu.py [--size 10000] [--requests 2000] [--member-requests 300]
"""

import argparse
import base64
import cProfile
import io
import json
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import page_bench  # noqa: E402  (after the path: the seed is shared)


def environ(path: str, cookie: str = "", language: str = "") -> dict:
    from io import BytesIO

    env = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
           "wsgi.url_scheme": "http", "wsgi.input": BytesIO(b""), "wsgi.errors": sys.stderr,
           "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
           "wsgi.version": (1, 0), "HTTP_ACCEPT_ENCODING": "gzip"}
    if cookie:
        env["HTTP_COOKIE"] = cookie
    if language:
        env["HTTP_ACCEPT_LANGUAGE"] = language
    return env


def call(application, env: dict) -> tuple[int, bytes]:
    status = []
    body = b"".join(application(dict(env), lambda s, h, *a: status.append(s)))
    return int(status[0].split()[0]), body


def measure(application, env: dict, requests: int) -> dict:
    from django.db import connection, reset_queries

    for _ in range(20):  # warm: imports, templates, connections, the stored copy
        code, body = call(application, env)
    assert code == 200, (env["PATH_INFO"], code, body[:300])
    connection.force_debug_cursor = True
    reset_queries()
    call(application, env)
    queries = len(connection.queries)
    if os.environ.get("PAGE_CPU_SHOW_QUERIES"):
        for query in connection.queries:
            print(query["sql"][:300], file=sys.stderr)
    connection.force_debug_cursor = False
    started = time.process_time()
    for _ in range(requests):
        call(application, env)
    cpu = (time.process_time() - started) / requests
    return {"cpu_ms": round(cpu * 1000, 3), "queries": queries, "bytes": len(body), "requests": requests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--member-requests", type=int, default=300)
    parser.add_argument("--redis-db", type=int, default=10)
    parser.add_argument("--profile", default="", help="a case to profile instead of timing")
    args = parser.parse_args()
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not broker.startswith("redis"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis).")

    import redis

    redis_url = page_bench.redis_database(broker, args.redis_db)
    store = redis.Redis.from_url(redis_url)
    if store.dbsize() and not store.exists("page-cpu:owner"):
        sys.exit(f"Redis database {args.redis_db} is in use by something else; choose another with --redis-db.")
    store.flushdb()
    store.set("page-cpu:owner", "bench/page_cpu.py")
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "coalition.settings", "TEST_DATABASE_NAME": "bench_page_cpu",
        "CELERY_BROKER_URL": redis_url, "REDIS_URL": redis_url, "REDIS_CACHE_URL": redis_url,
        "CELERY_QUEUE": f"bench-page-cpu-{uuid.uuid4().hex[:8]}", "SECRET_KEY": page_bench.SECRET_KEY,
        "AUDIT_HASH_KEY": "bench-only-audit-hash-key", "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "http://127.0.0.1", "SECURE_SSL_REDIRECT": "0", "LOG_LEVEL": "WARNING",
        "MFA_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    })

    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        seed_data = page_bench.seed([args.size])
        call_command("collectstatic", "--noinput", verbosity=0)
        slug = seed_data["statements"][args.size]
        page = f"/statements/{slug}/"
        application = WSGIHandler()
        cases = {
            "static": (environ(page_bench.STATIC), args.requests),
            "healthz": (environ("/healthz"), args.requests),
            "anon": (environ(page), args.requests),
            "anon_uk": (environ(page, language="uk"), args.requests),
            "member": (environ(page, cookie=f"sessionid={seed_data['session']}"), args.member_requests),
        }
        commit = page_bench.subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                           capture_output=True, text=True).stdout.strip()
        print(json.dumps({"size": args.size, "commit": commit, "load_average": os.getloadavg()[0]}), flush=True)
        if args.profile:
            env, requests = cases[args.profile]
            measure(application, env, 10)
            # CPU time, like the timings (PAGE_CPU_WALL=1: wall-clock time, which counts waiting for the
            # database and, on a busy machine, for the CPU).
            profiler = cProfile.Profile() if os.environ.get("PAGE_CPU_WALL") else cProfile.Profile(time.process_time)
            profiler.enable()
            for _ in range(requests):
                call(application, env)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PAGE_CPU_SORT", "cumulative"))
            stats.print_stats(int(os.environ.get("PAGE_CPU_LINES", "60")))
            print(out.getvalue())
            return
        for name, (env, requests) in cases.items():
            print(json.dumps({"case": name, **measure(application, env, requests)}), flush=True)
    finally:
        connection.close()
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
        store.flushdb()


if __name__ == "__main__":
    main()
