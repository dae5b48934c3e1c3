import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from django.conf import settings
from kombu import Exchange, Queue
from django.db import connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.utils import translation

from coalition.celery import app as celery_app

from . import factories

ROOT = Path(__file__).resolve().parents[1]
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=2):
            return True
    except OSError:
        return False


@receiver(connection_created)
def allow_flushing_the_audit_log(sender, connection, **kwargs):
    """The audit log refuses TRUNCATE on PostgreSQL (coalition/migrations/0004) unless the session
    says otherwise; the flush between transactional tests truncates every table."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET coalition.audit_truncate = 'on'")


def need_service(what: str, available: bool) -> None:
    """Skip a test whose service is missing, except under REQUIRE_SERVICES=1 (CI), where the
    missing service is a failure."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not available")


@pytest.fixture
def redis_broker_url() -> str:
    url = settings.CELERY_BROKER_URL
    need_service("Redis (CELERY_BROKER_URL)", bool(url) and url.startswith("redis") and _reachable(url))
    return url


@pytest.fixture
def postgres_database() -> None:
    need_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")


def test_database_url() -> str:
    """A DATABASE_URL for another process (a worker) to reach the test database."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "") + (":" + quote(s["PASSWORD"]) if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def start_worker(redis_broker_url, tmp_path_factory):
    """Start real `celery worker` processes on a queue of this test's own (so parallel test runs
    never take each other's tasks). Tasks are sent to Redis, not run in-process, while it is in use.
    With PostgreSQL, the worker shares the test database; use it with `transactional_db`."""
    queue = f"test-{uuid.uuid4().hex[:10]}"
    celery_app.conf.task_always_eager = False
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    processes = []

    def start(extra_env: dict | None = None, pool: str = "solo", beat: bool = False) -> subprocess.Popen:
        """`beat=True` also runs beat in the worker (`-B`), for tests of the periodic sweeps."""
        env = {**os.environ, "CELERY_BROKER_URL": redis_broker_url, "CELERY_QUEUE": queue,
               "DJANGO_SETTINGS_MODULE": "coalition.settings", **(extra_env or {})}
        if connection.vendor == "postgresql":
            env["DATABASE_URL"] = test_database_url()
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "coalition", "worker", f"--pool={pool}", "--loglevel=INFO",
             "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"{queue}-{len(processes)}@%h"]
            + (["-B", "-s", str(log_path.parent / f"beat-schedule-{len(processes)}")] if beat else []),
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        processes.append(process)
        return process

    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    log = log_path.open("w")
    yield start
    log.close()
    # Shown by pytest when the test fails: what the worker said.
    print(f"--- worker log ({log_path}) ---\n" + log_path.read_text()[-5000:])
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        try:  # whatever the worker left in its own process group (beat, a pool process)
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:  # the test's own queue goes too, with anything published into it at the last moment
        with celery_app.connection_for_write(redis_broker_url) as broker:
            bound = Queue(queue, Exchange(queue), routing_key=queue)(broker.default_channel)
            bound.declare()  # so the channel knows the binding it removes with the queue
            bound.delete()
    except Exception as exc:  # noqa: BLE001  (cleaning up is best effort)
        print(f"could not delete queue {queue}: {exc}")
    celery_app.conf.task_default_queue = previous_queue


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback that records every message it accepts (tests/smtp.py)."""
    from .smtp import LoopbackSMTP

    with LoopbackSMTP() as server:
        yield server


@pytest.fixture(autouse=True)
def tasks_run_in_process():
    """Tests run Celery tasks in-process (at commit), whatever the broker; `start_worker`
    switches this off to go through Redis to a real worker."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def site_language():
    """Each test starts in the site's language. A request through the test client leaves its
    language active in this thread (LocaleMiddleware does not undo it), so a test after a
    Ukrainian page would otherwise read Ukrainian messages."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Tests make many users; hashing their passwords properly is not what they test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """Each test gets a cache namespace of its own: counters, rate limits and stored pages start
    empty, and test runs sharing one Redis (or a developer's server) never see each other's keys.
    (Clearing instead would flush the whole Redis database under everyone else.)"""
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches
    # A statement's stored page may lag signatures by a few seconds (coalition/caching.py); tests
    # of other things read it right after signing, so none here unless a test asks for it.
    settings.STATEMENT_PAGE_STALE_SECONDS = 0
    yield


@pytest.fixture
def coalition(db):
    return factories.CoalitionFactory(name="Test Coalition", slug="test-coalition")


@pytest.fixture
def member_org(coalition):
    return factories.MembershipFactory(coalition=coalition).organisation


@pytest.fixture
def coordinator(coalition):
    return factories.CoordinatorFactory(coalition=coalition).user


@pytest.fixture
def signer(member_org):
    return factories.OrganisationRoleFactory(organisation=member_org, can_sign=True).user


@pytest.fixture
def staff(member_org):
    return factories.OrganisationRoleFactory(organisation=member_org, can_sign=False).user


@pytest.fixture
def outsider(db):
    return factories.UserFactory()


@pytest.fixture(scope="session")
def signing_files(tmp_path_factory):
    """A development root CA and signing certificate, made once per test run."""
    from statements import pdf_signing

    return pdf_signing.create_development_identity(tmp_path_factory.mktemp("signing"), name="Test Coalition")


@pytest.fixture(autouse=True)
def signing_identity(settings, signing_files):
    """Every test signs with the test run's own identity, never with a checkout's var/signing/."""
    settings.SIGNING_PKCS12_FILE = ""
    settings.SIGNING_PKCS11_MODULE = ""  # tests/test_pkcs11.py turns the token on where it tests it
    settings.SIGNING_KEY_FILE = str(signing_files.signing_key)
    settings.SIGNING_KEY_PASSPHRASE = ""
    settings.SIGNING_CERT_FILE = str(signing_files.signing_cert)
    settings.SIGNING_ROOT_CERT_FILE = str(signing_files.root_cert)
    settings.SIGNING_TIMESTAMP_URL = ""
    settings.SIGNING_TIMESTAMP_ROOT_CERT_FILE = ""
    settings.SIGNING_CRL_FILES = [str(signing_files.root_crl)]
    settings.SIGNING_REVOCATION_FETCH = False
    return signing_files


@pytest.fixture
def timestamp_authority(settings, signing_identity, tmp_path):
    """A local RFC 3161 timestamp server (tests/tsa.py) with a root of its own, configured as a
    deployment would: SIGNING_TIMESTAMP_URL, its root, its CRL. Publications are then B-LTA."""
    from .tsa import TimestampAuthority

    with TimestampAuthority(tmp_path / "tsa") as authority:
        settings.SIGNING_TIMESTAMP_URL = authority.url
        settings.SIGNING_TIMESTAMP_ROOT_CERT_FILE = str(authority.root_cert_file)
        settings.SIGNING_CRL_FILES = [str(signing_identity.root_crl), str(authority.crl_file)]
        yield authority


# Fixtures that start processes of their own (a Celery worker, a redis-server, gunicorn): a test
# using one is marked `worker`.
PROCESS_FIXTURES = {"start_worker", "private_redis", "web_process", "s3_endpoint"}


def pytest_collection_modifyitems(config, items):
    """`browser` for everything under tests/browser/, `worker` for every test using one of the
    fixtures above (others are marked where they start their processes). `make test-fast` leaves
    out both, and the `slow` ones."""
    browser_folder = Path(__file__).resolve().parent / "browser"
    for item in items:
        if browser_folder in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.browser)
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.worker)
