"""The statement page of a statement open to individuals, under gunicorn on PostgreSQL and Redis,
while people sign it: every figure beside a static file and a tiny view, measured with wrk.

The script makes a PostgreSQL database of its own (`bench_pages`, dropped at the end) holding
one coalition, its member organisations (some of which have signed) and two statements open to
individuals, with SIZES confirmed individual signatures each (10,000 and 100,000 by default),
bulk-inserted directly, not through the web. It starts `gunicorn coalition.wsgi` (2 sync
workers, `DEBUG=0`) with the cache and the broker in a Redis database of the run's own
(`--redis-db`, emptied at the start and at the end), then measures with
`wrk -t2 -c20 --latency` (`--connections`), for `--seconds` each:

- ``static``: /static/css/site.css, served by WhiteNoise in the same gunicorn (the ceiling);
- ``healthz``: /healthz, the tiniest view (one database query);
- ``anon_<size>_<rate>``: the statement page as a visitor who is not signed in gets it, with no
  signing (rate 0) and while confirmations arrive at each of RATES per second;
- ``member_<size>_<rate>``: the same page signed in as a member organisation's staff (wrk sends
  the session cookie), with no signing and at the highest rate; ``_c2`` is the same with 2
  connections (one per worker: the latency of a render without the queue in front of it).

While a case with a rate runs, a thread of this process signs the statement as new individuals
and confirms each signature through the real services (`cosigning.sign_as_individual`, then
`cosigning.confirm_individual`: the row lock, the outbox row for the confirmation email, the
audit events and whatever the cache's signal receivers do on commit), at a steady pace; the
confirmations it achieved are printed with the case. Their emails are queued in Redis for no
worker (sending them is not what is measured).

The cases take turns for `--rounds` rounds, so a busy neighbour on the shared machine slows them
all alike. One JSON line per case and round, then one summary line per case: medians over the
rounds of requests/s and of p50 and p99 latency, the worst p99, and the ratio of requests/s to
the static file's and to /healthz's in the same round (median over rounds). Each target is
fetched once first and checked (200, the statement's title, signed in or not as expected). Load
goes only to 127.0.0.1. From the project folder:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/page_bench.py [--sizes 10000,100000] [--rates 5,20] [--seconds 10] [--rounds 3]

`--quick` is a smoke test: sizes 200 and 1,000, 3-second cases, one round.
"""

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET_KEY = "bench-" + secrets.token_hex(24)  # the server's and this process's: the session is made here
STATIC = "/static/css/site.css"
FIRST = ["Olena", "Andrii", "Iryna", "Mykola", "Oksana", "Taras", "Anna", "Dmytro", "Sofiia", "Bohdan",
         "Maria", "Yurii", "Kateryna", "Serhii", "Natalia", "Petro", "John", "Emma", "Lukas", "Chloé"]
LAST = ["Kovalenko", "Shevchenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk", "Oliinyk",
        "Moroz", "Lysenko", "Savchenko", "Rudenko", "Marchenko", "Smith", "Müller", "Dubois", "Novak"]


def person(n: int) -> str:
    return f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST)) % len(LAST)]} {n}"


def database_url(settings_dict: dict) -> str:
    auth = quote(settings_dict["USER"] or "") + (":" + quote(settings_dict["PASSWORD"]) if settings_dict["PASSWORD"] else "")
    return (f"postgres://{auth}@{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}"
            f"/{settings_dict['NAME']}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the database

def seed(sizes: list[int]) -> dict:
    """The coalition, a member's staff user and one open statement per size; returns what the
    cases need (the statements' slugs and the member's session cookie)."""
    from django.test import Client

    from coalition.models import Organisation
    from statements.models import Signature
    from tests import factories
    from tests.factories import make_statement

    coalition = factories.CoalitionFactory(name="Ukraine 5AM Coalition", slug="u5am")
    coordinator = factories.CoordinatorFactory(coalition=coalition).user
    names = [n for n in (ROOT / "bench" / "names.txt").read_text(encoding="utf-8").split("\n") if n]
    organisations = Organisation.objects.bulk_create(
        Organisation(name=name, slug=f"member-{n}") for n, name in enumerate(names))
    for organisation in organisations:
        factories.MembershipFactory(coalition=coalition, organisation=organisation)
    member = factories.UserFactory(email="member@example.org", name="Member Staff")
    factories.OrganisationRoleFactory(user=member, organisation=organisations[-1], can_sign=True)
    statements = {}
    for size in sizes:
        statement = make_statement(
            coalition, by=coordinator, status="open", title=f"Open statement with {size:,} signatures",
            summary="Open to everyone.", body="We call on every state party to act.\n\n" * 30,
            allows_individuals=True)
        revision = statement.signed_revision
        Signature.objects.bulk_create(
            Signature(statement=statement, revision=revision, sha256=revision.sha256, kind="organisation",
                      organisation=o, signed_by=coordinator) for o in organisations[:30])
        insert_individuals(statement, size)
        statements[size] = statement.slug
    client = Client()
    client.force_login(member)
    return {"statements": statements, "session": client.cookies["sessionid"].value}


def insert_individuals(statement, size: int, batch: int = 5000) -> None:
    """`size` confirmed individual signatures, straight into the table (no signals: the cache is
    empty until the server starts), one a minute apart up to now."""
    from django.utils import timezone

    from statements.models import Signature

    revision, start = statement.signed_revision, timezone.now() - timedelta(minutes=size)
    for first in range(0, size, batch):
        rows = []
        for n in range(first, min(size, first + batch)):
            at = start + timedelta(minutes=n)
            rows.append(Signature(statement=statement, revision=revision, sha256=revision.sha256, kind="individual",
                                  name=person(n), affiliation="Lawyer" if n % 3 == 0 else "",
                                  email=f"signer-{n}@example.org", created_at=at, confirmed_at=at))
        Signature.objects.bulk_create(rows)


# ---------------------------------------------------------------- signing while measuring

class Confirmations(threading.Thread):
    """New individuals sign `slug` and confirm, `rate` a second, through the real services."""

    def __init__(self, slug: str, rate: float):
        super().__init__(daemon=True)
        self.slug, self.rate = slug, rate
        self.done = threading.Event()
        self.confirmed, self.seconds = 0, 0.0
        self.errors: list[str] = []

    def run(self):
        from django.db import connection

        from statements.services import cosigning
        from statements.models import Statement

        try:
            statement = Statement.objects.select_related("signed_revision").get(slug=self.slug)
            run, started = uuid.uuid4().hex[:8], time.monotonic()
            while not self.done.is_set():
                n = self.confirmed + len(self.errors)
                pause = started + n / self.rate - time.monotonic()
                if pause > 0 and self.done.wait(pause):
                    break
                try:
                    token = cosigning.sign_as_individual(
                        statement, ip="127.0.0.1",
                        person=cosigning.Individual(name=person(n), email=f"live-{run}-{n}@example.org"))
                    cosigning.confirm_individual(statement, token=token, sha256=statement.signed_revision.sha256)
                    self.confirmed += 1
                except Exception as exc:  # noqa: BLE001  (reported with the case, and the run goes on)
                    self.errors.append(repr(exc)[:200])
                self.seconds = time.monotonic() - started
        finally:
            connection.close()

    def stop(self) -> dict:
        self.done.set()
        self.join()
        return {"confirmed": self.confirmed, "confirmed_per_s": round(self.confirmed / max(self.seconds, 0.001), 2),
                "confirm_errors": len(self.errors), **({"first_error": self.errors[0]} if self.errors else {})}


# ---------------------------------------------------------------- the server and wrk

def start_gunicorn(port: int, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "coalition.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            get(port, "/healthz")
            return process
        except OSError:
            time.sleep(0.3)
    stop(process)
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


def get(port: int, path: str, cookie: str = "") -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", value).groups()
    return float(number) * UNITS[unit]


def wrk(port: int, path: str, seconds: int, connections: int, cookie: str = "") -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                            check=True).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+?)\s*$", output, re.M))
    if "99" not in percentiles:
        sys.exit(f"wrk measured nothing on {path}:\n{output}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": round(milliseconds(percentiles["50"]), 2),
        "p99_ms": round(milliseconds(percentiles["99"]), 2),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
    }


# ---------------------------------------------------------------- the run

def cases(seed_data: dict, rates: list[float], connections: int, member_connections: list[int]) -> list[dict]:
    session = f"sessionid={seed_data['session']}"
    found = [{"name": "static", "path": STATIC}, {"name": "healthz", "path": "/healthz"}]
    for size, slug in seed_data["statements"].items():
        for rate in [0, *rates]:
            found.append({"name": f"anon_{size}_{rate:g}", "path": f"/statements/{slug}/", "size": size,
                          "rate": rate, "slug": slug})
        for clients in member_connections:
            for rate in [0, max(rates)] if rates else [0]:
                found.append({"name": f"member_{size}_{rate:g}" + (f"_c{clients}" if clients != connections else ""),
                              "path": f"/statements/{slug}/", "size": size, "rate": rate, "slug": slug,
                              "cookie": session, "connections": clients})
    return found


def check(port: int, case: dict) -> int:
    """Fetch the case's page once (which also fills the cache); refuse to measure a wrong page."""
    status, body = get(port, case["path"], case.get("cookie", ""))
    problem = None
    if status != 200:
        problem = f"answered {status}"
    elif "size" in case and f"Open statement with {case['size']:,} signatures" not in body:
        problem = "is not the statement's page"
    elif "size" in case and ("Sign out" in body) != ("cookie" in case):
        problem = "signed in" if "cookie" not in case else "not signed in: the session was not accepted"
    if problem:
        sys.exit(f"{case['name']} ({case['path']}) {problem}")
    return len(body.encode())


def measure(port: int, case: dict, args) -> dict:
    page_bytes = check(port, case)
    loader = None
    if case.get("rate"):
        loader = Confirmations(case["slug"], case["rate"])
        loader.start()
        time.sleep(1)  # signing is under way before the first measured request
    try:
        result = wrk(port, case["path"], args.seconds, case.get("connections", args.connections),
                     case.get("cookie", ""))
    finally:
        signing = loader.stop() if loader else {}
    return {**result, "page_bytes": page_bytes, **signing}


def summarise(name: str, rounds: list[dict]) -> dict:
    def median(key):
        return round(statistics.median(r[key] for r in rounds), 3)

    return {"summary": name, "rounds": len(rounds), "rps": median("rps"), "p50_ms": median("p50_ms"),
            "p99_ms": median("p99_ms"), "p99_worst_ms": max(r["p99_ms"] for r in rounds),
            "ratio_to_static": median("ratio_to_static"), "ratio_to_healthz": median("ratio_to_healthz"),
            "page_bytes": rounds[-1]["page_bytes"],
            **({"confirmed_per_s": median("confirmed_per_s"),
                "confirm_errors": sum(r["confirm_errors"] for r in rounds),
                "first_error": next((r["first_error"] for r in rounds if "first_error" in r), "")}
               if "confirmed_per_s" in rounds[0] else {})}


def verdict(summary: dict) -> str:
    name = summary["summary"]
    if name.startswith("anon_"):
        met = summary["ratio_to_static"] >= 0.5 and summary["p99_ms"] < 100
        target = ">= 0.5x static, p99 < 100 ms"
    elif name.startswith("member_"):
        met = summary["p99_ms"] < 150
        target = "p99 < 150 ms"
    else:
        return ""
    return f"{'met    ' if met else 'NOT met'}  ({target})"


def redis_database(url: str, number: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="individual signatures per statement")
    parser.add_argument("--rates", default="5,20", help="confirmations per second while measuring")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=20, help="wrk -c")
    parser.add_argument("--member-connections", default="20,2",
                        help="wrk -c for the signed-in cases (2: one client per worker, so no queueing)")
    parser.add_argument("--redis-db", type=int, default=9, help="Redis database for the run's cache and broker")
    parser.add_argument("--quick", action="store_true", help="smoke test: sizes 200,1000, 3 s cases, one round")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.seconds, args.rounds = "200,1000", 3, 1
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rates = [float(r) for r in args.rates.split(",") if r]
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not broker.startswith("redis"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis).")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")

    import redis

    redis_url = redis_database(broker, args.redis_db)
    store = redis.Redis.from_url(redis_url)
    if store.dbsize() and not store.exists("page-bench:owner"):
        sys.exit(f"Redis database {args.redis_db} is in use by something else; choose another with --redis-db.")
    store.flushdb()
    store.set("page-bench:owner", "bench/page_bench.py")
    # This process confirms signatures: its cache must be the server's, or its changes reach no page.
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "coalition.settings", "TEST_DATABASE_NAME": "bench_pages",
        "CELERY_BROKER_URL": redis_url, "REDIS_URL": redis_url, "REDIS_CACHE_URL": redis_url,
        "CELERY_QUEUE": f"bench-pages-{uuid.uuid4().hex[:8]}", "SIGNING_RATE_LIMITS_ENABLED": "0",
        "SECRET_KEY": SECRET_KEY, "AUDIT_HASH_KEY": "bench-only-audit-hash-key",
    })

    import django

    django.setup()
    from django.db import connection

    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    server = None
    try:
        started = time.monotonic()
        seed_data = seed(sizes)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        print(json.dumps({"seeded": {str(k): v for k, v in seed_data["statements"].items()},
                          "seconds": round(time.monotonic() - started, 1), "commit": commit.stdout.strip(),
                          "cpus": os.cpu_count()}), flush=True)
        connection.close()  # the server's workers and the signing thread open their own
        env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict), "DEBUG": "0",
               "ALLOWED_HOSTS": "127.0.0.1", "SITE_URL": "http://127.0.0.1", "SECURE_SSL_REDIRECT": "0",
               "LOG_LEVEL": "WARNING",
               # With DEBUG off the two-factor secrets' key is required (a Fernet key); none is used here.
               "MFA_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode()}
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)
        port = free_port()
        server = start_gunicorn(port, env)
        todo = cases(seed_data, rates, args.connections,
                     [int(c) for c in args.member_connections.split(",") if c])
        for case in todo:  # warm-up: each worker's imports, templates, connections
            check(port, case)
            wrk(port, case["path"], 1, case.get("connections", args.connections), case.get("cookie", ""))
        for slug in seed_data["statements"].values():  # and this process's signing path
            warm = Confirmations(slug, 2)
            warm.start()
            time.sleep(1.5)
            warm.stop()
        results: dict[str, list[dict]] = {case["name"]: [] for case in todo}
        for round_number in range(1, args.rounds + 1):
            this_round = {}
            for case in todo:
                this_round[case["name"]] = measure(port, case, args)
            for name, result in this_round.items():
                result["ratio_to_static"] = round(result["rps"] / this_round["static"]["rps"], 3)
                result["ratio_to_healthz"] = round(result["rps"] / this_round["healthz"]["rps"], 3)
                results[name].append(result)
                print(json.dumps({"case": name, "round": round_number, **result,
                                  "load_average": os.getloadavg()[0]}), flush=True)
        summaries = [summarise(name, rounds) for name, rounds in results.items()]
        for summary in summaries:
            print(json.dumps(summary), flush=True)
        print(f"\n{'case':<22}{'req/s':>10}{'x static':>10}{'x healthz':>10}{'p50 ms':>9}{'p99 ms':>9}"
              f"{'worst p99':>11}{'conf/s':>8}{'KB':>8}  target")
        for s in summaries:
            print(f"{s['summary']:<22}{s['rps']:>10.1f}{s['ratio_to_static']:>10.3f}{s['ratio_to_healthz']:>10.3f}"
                  f"{s['p50_ms']:>9.1f}{s['p99_ms']:>9.1f}{s['p99_worst_ms']:>11.1f}"
                  f"{s.get('confirmed_per_s', 0):>8.1f}{s['page_bytes'] / 1024:>8.0f}  {verdict(s)}")
        for s in summaries:  # a case whose signing failed measured an idle page: say so
            if s.get("confirm_errors"):
                print(f"! {s['summary']}: {s['confirm_errors']} signatures failed to confirm, first: {s['first_error']}")
    finally:
        if server is not None:
            stop(server)
        connection.close()
        connection.creation.destroy_test_db(original_name, verbosity=0)
        store.flushdb()


if __name__ == "__main__":
    main()
