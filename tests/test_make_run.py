"""`make run` runs the whole system: web, worker and beat (scripts/run.py, the Procfile), with a
broker that needs no server, so scheduled work happens; one SIGINT stops every process it started."""

import importlib.util
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What CI or a developer's shell may set for the suite; the system under test gets its own.
SUITE_SETTINGS = ("DATABASE_URL", "TEST_DATABASE_NAME", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_QUEUE",
                  "REDIS_URL", "REDIS_CACHE_URL", "SITE_URL", "ALLOWED_HOSTS", "HOST", "VAR_DIR", "MEDIA_ROOT",
                  "EMAIL_BACKEND", "EMAIL_HOST", "STORAGE_S3_BUCKET", "AWS_STORAGE_BUCKET_NAME")


def load_run_script():
    spec = importlib.util.spec_from_file_location("run_script", ROOT / "scripts" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("host, url", [
    ("127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("0.0.0.0:8080", "http://127.0.0.1:8080"),
    ("8081", "http://127.0.0.1:8081"),
    ("localhost", "http://localhost:8000"),
    ("statements.example.org:8000", "http://statements.example.org:8000"),
    ("[::]:9000", "http://[::1]:9000"),
    ("[::1]:9000", "http://[::1]:9000"),
])
def test_site_url_follows_the_address_make_run_listens_on(host, url):
    assert load_run_script().site_url(host) == url


def test_what_the_caller_set_wins_over_make_runs_defaults():
    run = load_run_script()
    env = run.environment("0.0.0.0:8080", {"SITE_URL": "https://statements.example.org",
                                           "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"})
    assert env["SITE_URL"] == "https://statements.example.org"
    assert env["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"
    assert "ALLOWED_HOSTS" not in env  # a wildcard address needs no host of its own

    env = run.environment("statements.lan:8000", {})
    assert env["SITE_URL"] == "http://statements.lan:8000"
    assert env["CELERY_BROKER_URL"] == "filesystem://"
    assert env["ALLOWED_HOSTS"].split(",")[-1] == "statements.lan"


def test_make_runs_broker_sends_tasks_to_the_worker_through_folders_shared_with_the_cache(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in SUITE_SETTINGS}
    env |= {"CELERY_BROKER_URL": "filesystem://", "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "coalition.settings"}
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'], "
            "s.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in'], s.CELERY_BEAT_SCHEDULE_FILENAME)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    eager, cache, cache_folder, queue, schedule = result.stdout.split()
    assert eager == "False"  # tasks go to the worker
    assert cache == "django.core.cache.backends.filebased.FileBasedCache"  # one cache for web and worker
    assert (cache_folder, queue, schedule) == (str(tmp_path / "cache"), str(tmp_path / "broker" / "queue"),
                                               str(tmp_path / "celerybeat-schedule"))
    assert (tmp_path / "broker" / "queue").is_dir()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:
        return 0, ""


def wait_for(what: str, check, timeout: float, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    pytest.fail(f"{what} within {timeout:.0f} s; make run said:\n{log.read_text()[-6000:]}")


def processes_with(marker: str) -> set[int]:
    """Every live process whose environment holds `marker` (each process make run starts, and
    theirs, inherit it)."""
    needle = marker.encode() + b"\0"
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                found.add(int(entry.name))
        except OSError:  # gone meanwhile, or a zombie
            continue
    return found


OPEN_WITH_DEADLINE = """
from datetime import timedelta
from django.utils import timezone
from statements import services
from tests import factories

coalition = factories.CoalitionFactory(slug="deadline-coalition")
coordinator = factories.CoordinatorFactory(coalition=coalition).user
statement = factories.make_statement(coalition, by=coordinator, title="Closes by itself")
services.open_for_signature(statement, by=coordinator, deadline=timezone.now() + timedelta(seconds=8),
                              allows_individuals=True)
print(statement.slug)
"""


def statement_status(database: Path, slug: str) -> str:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as db:
        return db.execute("SELECT status FROM statements_statement WHERE slug = ?", [slug]).fetchone()[0]


@pytest.mark.worker  # scripts/run.py: web, worker and beat
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the processes through /proc")
def test_make_run_closes_a_statement_at_its_deadline_and_one_sigint_stops_everything(tmp_path):
    port = free_port()
    database = tmp_path / "db.sqlite3"
    marker = f"VAR_DIR={tmp_path / 'var'}"
    env = {key: value for key, value in os.environ.items() if key not in SUITE_SETTINGS}
    env |= {"DATABASE_URL": f"sqlite:///{database}", "VAR_DIR": str(tmp_path / "var"), "MEDIA_ROOT": str(tmp_path / "media"),
            "DEADLINE_SWEEP_SECONDS": "2", "DJANGO_SETTINGS_MODULE": "coalition.settings"}
    log = tmp_path / "make-run.log"
    with log.open("w") as output:
        # What `make run HOST=...` runs once the packages are installed (the demo left out: it is slow).
        run = subprocess.Popen([sys.executable, "scripts/run.py", f"127.0.0.1:{port}", "--no-demo"], cwd=ROOT,
                               env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    site = f"http://127.0.0.1:{port}"
    try:
        wait_for("the web answering", lambda: get(f"{site}/healthz")[0] == 200, 60, log)
        assert processes_with(marker) >= {run.pid}
        assert "worker.1" in log.read_text() and "beat.1" in log.read_text()

        made = subprocess.run([sys.executable, "manage.py", "shell", "-c", OPEN_WITH_DEADLINE], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        slug = made.stdout.split()[-1]
        assert statement_status(database, slug) == "open"
        wait_for("the open statement's public page", lambda: "status-open" in get(f"{site}/statements/{slug}/")[1],
                 5, log)

        # Beat queues the sweep, the worker closes the statement: nobody asked for it.
        wait_for("the statement closed at its deadline", lambda: statement_status(database, slug) == "closed",
                 60, log)
        # The public page is gone (the web's stored copy went with the worker's change: a statement
        # open to individuals is public while open, a closed one only to members)...
        wait_for("the statement page gone once closed", lambda: get(f"{site}/statements/{slug}/")[0] == 404, 20, log)
        # ...and the coordinators' email, sent by the worker, links to this server, not to port 8000.
        wait_for("the deadline email linking to this server",
                 lambda: f"{site}/statements/{slug}/" in log.read_text(), 30, log)
        started = processes_with(marker)
        assert len(started) >= 4  # make run (honcho), web, worker, beat

        run.send_signal(signal.SIGINT)
        run.wait(timeout=30)
        gone = wait_for("every process stopped", lambda: not processes_with(marker) or None, 15, log)
        assert gone
        assert "database is locked" not in log.read_text()
    finally:
        for pid in processes_with(marker) | ({run.pid} if run.poll() is None else set()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        run.wait(timeout=10)
