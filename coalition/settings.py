"""Settings for Coalition Statements, read from the environment with safe development defaults.

With nothing set, the site runs on SQLite in the project folder, runs Celery tasks in-process and
prints email to the console. `DATABASE_URL`, `CELERY_BROKER_URL` (or `REDIS_URL`) and the email
settings switch to the real services. With `DEBUG=0`, `SECRET_KEY` must be set.
"""

import base64
import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-key-never-used-in-production"  # noqa: S105 (dev default)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The address people see in emails and PDFs, without a trailing slash.
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "django.forms",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "coalition",
    "statements",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A request that cannot be decoded, or holds a NUL, answers 400 before anything reads it.
    "coalition.faults.RequestDecodingMiddleware",
    # A database that does not answer gives 503 with Retry-After, not 500.
    "coalition.faults.DatabaseOutageMiddleware",
    # Anonymous visitors' copies of public pages, served before the CSP, sessions, locale, CSRF
    # and authentication run (coalition/caching.py): a stored copy carries the headers they set.
    "coalition.caching.PublicPageCacheMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A body over the largest upload is refused (413) before it is read (statements/uploads.py).
    "statements.uploads.UploadLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "coalition.middleware.UserLanguageMiddleware",
    # Times also in the zone a signed-in person chose in their account (coalition/time_zones.py).
    "coalition.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Rate-limited actions fail closed (503) when the cache holding their counters is down.
    "coalition.ratelimits.RateLimitMiddleware",
    # Coordinators and admins enrol in two-factor authentication before anything else.
    "coalition.middleware.RequireMFAMiddleware",
]

ROOT_URLCONF = "coalition.urls"
WSGI_APPLICATION = "coalition.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "coalition.context_processors.site",
            ],
        },
    },
]

FORM_RENDERER = "coalition.forms_renderer.SiteFormRenderer"

# Database: SQLite in the project folder unless DATABASE_URL says otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=60,
        # A kept connection is checked before a request uses it, so one left over from before a
        # database restart is replaced, not failed on.
        conn_health_checks=True,
    )
}
# While the database does not answer, pages answer 503 with this Retry-After (coalition/faults.py).
DATABASE_RETRY_AFTER_SECONDS = int(env("DATABASE_RETRY_AFTER_SECONDS", "30"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock at BEGIN, so two requests can never both read
    # "the latest audit event" and then both append after it.
    # WAL (write-ahead log): the web, the worker and beat of `make run` read while one of them
    # writes, and a writer waits for another (up to the timeout) instead of failing with "database
    # is locked". In-memory test databases keep their own journal; the pragma leaves them as is.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if env("TEST_DATABASE_NAME"):
    # Lets two test runs share one PostgreSQL server without sharing a test database.
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "coalition.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Accounts (django-allauth): email is the login, email must be verified, and nobody signs up
# without an invitation (the adapter opens sign-up only for a valid invitation).
ACCOUNT_ADAPTER = "coalition.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_PREVENT_ENUMERATION = True
# A password reset for an address with no account sends a message too (saying so, and that
# accounts come by invitation): the same work as for an account, so the time the answer takes
# does not tell either. Both are rate-limited per address (ACCOUNT_RATE_LIMITS).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_FORMS = {"signup": "coalition.forms.InvitedSignupForm"}
# The site's name before the subject of allauth's emails, in the language the email is written in.
ACCOUNT_EMAIL_SUBJECT_PREFIX = _("[Coalition Statements] ")
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, kept explicit so they can be read and tuned in one place, except that
    # one address gets at most 5 reset emails an hour (not a minute): reset mail goes to any
    # address typed, account or not. Counted in the cache, so shared by every web process.
    # Failed sign-ins per IP, and per address from every IP together: the per-address ceiling is
    # high so that a stranger guessing from elsewhere does not lock the owner out; the owner's own
    # attempts are held by SIGN_IN_RATE_LIMIT_PER_ADDRESS_AND_IP (coalition.adapters).
    "login_failed": env("SIGN_IN_RATE_LIMITS", "10/m/ip,50/h/key"),
    "reset_password": env("PASSWORD_RESET_RATE_LIMITS", "20/m/ip,5/h/key"),
    "reset_password_from_key": "20/m/ip",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
}
# Behind a reverse proxy every request comes from the proxy: trust this many proxies' entries in
# X-Forwarded-For, so rate limits per IP count the client's address (docs/deploy.md).
ALLAUTH_TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))
# Failed sign-ins (password or two-factor code) for one address from one IP: the limit that stops
# guessing; the same answer as the other limits when reached.
SIGN_IN_RATE_LIMIT_PER_ADDRESS_AND_IP = env("SIGN_IN_RATE_LIMIT_PER_ADDRESS_AND_IP", "5/5m")
MFA_FORMS = {"authenticate": "coalition.forms.AuthenticateForm"}
# The key of the keyed hash (HMAC-SHA256) kept of individuals' addresses in the audit log and on
# erased signatures: without it a guessed address cannot be confirmed against them. Required
# when DEBUG is off; in development derived from SECRET_KEY.
AUDIT_HASH_KEY = env("AUDIT_HASH_KEY")
if not AUDIT_HASH_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("AUDIT_HASH_KEY must be set when DEBUG is off.")
    AUDIT_HASH_KEY = "audit-hash:" + SECRET_KEY
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Coalition Statements"
# Enrolling in TOTP also makes recovery codes (allauth's defaults, kept explicit).
MFA_RECOVERY_CODE_COUNT = 10
MFA_RECOVERY_CODE_DIGITS = 8
# Coordinators and admins cannot remove their last authenticator; TOTP keys and recovery-code
# seeds are stored encrypted (coalition/mfa_secrets.py).
MFA_ADAPTER = "coalition.adapters.MFAAdapter"
# Fernet keys (URL-safe base64 of 32 bytes), comma-separated: the first encrypts, every one
# decrypts, so a key is rotated by putting a new one first, running `manage.py rotate_mfa_keys`,
# then dropping the old one (docs/deploy.md). Required when DEBUG is off; in development a key is
# derived from SECRET_KEY.
MFA_ENCRYPTION_KEYS = env_list("MFA_ENCRYPTION_KEYS", [])
if not MFA_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "MFA_ENCRYPTION_KEYS must be set when DEBUG is off: it encrypts two-factor secrets "
            "(docs/deploy.md, Secrets at rest).")
    MFA_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(
        hashlib.sha256(b"coalition-statements mfa encryption\0" + SECRET_KEY.encode()).digest()).decode()]
else:
    for _position, _key in enumerate(MFA_ENCRYPTION_KEYS, start=1):
        try:
            Fernet(_key)
        except ValueError:
            raise ImproperlyConfigured(
                f"MFA_ENCRYPTION_KEYS: key {_position} is not a Fernet key (32 bytes in URL-safe base64; "
                "make one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`).") from None
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"

# Language and time: English and Ukrainian, Kyiv time.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("uk", _("Ukrainian"))]
# locale/ is the site's own catalogue (makemessages keeps it in step with the sources);
# locale_overrides/ gives django-allauth's pages and emails, and Django's form messages, in the
# terms of docs/glossary-uk.md. Both outrank the packages' own catalogues, and locale/ outranks
# the overrides where both have a string. makemessages writes only to locale/ (no source file lies
# under locale_overrides/), so its --no-obsolete never drops an override.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_overrides"]
TIME_ZONE = "Europe/Kyiv"
USE_I18N = True
USE_TZ = True

# In development, WhiteNoise serves straight from the app and project static folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
# Published PDFs (and any other uploaded file) go to the local MEDIA_ROOT, or, once a bucket is
# named, to S3-compatible object storage (AWS S3, MinIO, Hetzner, Backblaze B2...), which every web
# and worker machine shares. Objects stay private: the site streams each PDF from its own
# /statements/<slug>/pdf/, unless STORAGE_S3_REDIRECT sends readers to a short-lived signed URL.
STORAGE_S3_BUCKET = env("STORAGE_S3_BUCKET") or env("AWS_STORAGE_BUCKET_NAME")
STORAGE_S3_REDIRECT = env_bool("STORAGE_S3_REDIRECT", False) and bool(STORAGE_S3_BUCKET)


def _default_storage() -> dict:
    if not STORAGE_S3_BUCKET:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    options = {
        "bucket_name": STORAGE_S3_BUCKET,
        "location": env("AWS_LOCATION").strip("/"),
        # Owner only. AWS_DEFAULT_ACL= (empty) sends no ACL, for buckets that refuse ACLs altogether.
        "default_acl": env("AWS_DEFAULT_ACL", "private") or None,
        "querystring_auth": True,  # a bucket URL, where used, is signed and expires
        "querystring_expire": int(env("AWS_QUERYSTRING_EXPIRE", "300")),
        "file_overwrite": False,  # an issue's file is never replaced by another
        # Files above 8 MB read from the bucket are buffered on disk, not in memory.
        "max_memory_size": 8 * 1024 * 1024,
    }
    for option, name in [("endpoint_url", "AWS_S3_ENDPOINT_URL"), ("region_name", "AWS_S3_REGION_NAME"),
                         ("access_key", "AWS_ACCESS_KEY_ID"), ("secret_key", "AWS_SECRET_ACCESS_KEY"),
                         ("addressing_style", "AWS_S3_ADDRESSING_STYLE"),
                         ("signature_version", "AWS_S3_SIGNATURE_VERSION"),
                         ("custom_domain", "AWS_S3_CUSTOM_DOMAIN")]:
        if env(name):  # unset: boto3's own chain (instance role, ~/.aws) decides
            options[option] = env(name)
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


STORAGES = {
    "default": _default_storage(),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Redis: the broker, and the cache so that rate limits hold across every web process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
REDIS_URL = env("REDIS_URL") or (CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "")
# What `make run` keeps on one machine without a server (scripts/run.py): the filesystem broker's
# folders, a cache the web and the worker share, beat's schedule.
VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))


def _redis_cache_url(url: str) -> str:
    """The cache lives in its own Redis database (1 unless REDIS_CACHE_URL says otherwise), so
    clearing it never touches the broker's queues."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/1"))


if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, keeping one client per process instead of one per call.
            "BACKEND": "coalition.redis_cache.RedisCache",
            "LOCATION": env("REDIS_CACHE_URL") or _redis_cache_url(REDIS_URL),
            "KEY_PREFIX": "cs",
            # Rate limits fail closed when Redis is down; short timeouts make that quick.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
elif CELERY_BROKER_URL:
    # Tasks run in a worker process (`make run`'s filesystem broker): a cache of its own per
    # process would keep a page stored by the web after the worker changed the statement.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# How far behind a statement's stored page may be while signatures arrive (coalition/caching.py):
# at most STALE seconds plus one render; a render's lock is held at most LOCK seconds.
STATEMENT_PAGE_STALE_SECONDS = float(env("STATEMENT_PAGE_STALE_SECONDS", "3"))
STATEMENT_PAGE_LOCK_SECONDS = float(env("STATEMENT_PAGE_LOCK_SECONDS", "10"))

# Celery. Without a broker, tasks run in-process when their transaction commits.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND") or (REDIS_URL or None)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# What keeps tasks safe when a worker or Redis dies (docs/deploy.md):
# - Late acks: a task's message is acknowledged only after the task finishes, so a worker killed
#   mid-task leaves it unacknowledged, and Redis hands it out again after the visibility timeout.
#   Every task is idempotent (an outbox row that was sent is never sent again), so a rerun
#   doubles nothing.
# - Reject on worker lost: when a pool process dies (SIGKILL, out of memory), its task goes back
#   to the queue instead of being acknowledged as failed.
# - Prefetch multiplier 1: a worker reserves one task per process beyond those it runs; a task
#   reserved by a worker that dies waits for the visibility timeout, so the fewer the better.
# - Visibility timeout (CELERY_VISIBILITY_TIMEOUT, one hour): Redis re-delivers an unacknowledged
#   task after it, even to a second worker while the first still runs it. It must be longer than
#   the longest task: an outbox batch is OUTBOX_BATCH_SIZE messages (seconds), publishing a large
#   statement takes minutes. No task is ever queued with a long countdown or ETA (the outbox keeps
#   its retry times and scheduled sends in the database), because Redis would re-deliver those
#   too. Tests shorten it to see a killed task re-delivered.
# - Running tasks are not cancelled when the broker connection drops: an outbox batch that goes on
#   sending finishes its rows, and the re-delivered copy finds them sent.
# - Publishing fails fast when Redis is down (a few tries within about a second, short socket
#   timeouts, and outbox tasks store no result), so a request that queues a task never hangs on
#   it; the outbox catches the error and its sweep (beat, every OUTBOX_SWEEP_SECONDS) delivers.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(env("CELERY_VISIBILITY_TIMEOUT", "3600")),
    "socket_connect_timeout": 3,
    "socket_timeout": 15,
}
if CELERY_BROKER_URL.startswith("filesystem:"):
    # kombu's filesystem transport (`make run`'s default broker): one message per file, in a folder
    # the web, the worker and beat share; the worker polls it every second.
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
    for _folder in ("queue", "control", "processed"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.5}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.5},
    "socket_connect_timeout": 3,
    "socket_timeout": 15,
}
CELERY_BEAT_SCHEDULE: dict = {
    "deliver-pending-email": {
        "task": "statements.tasks.deliver_pending",
        "schedule": float(env("OUTBOX_SWEEP_SECONDS", "60")),
    },
    "close-signing-at-deadline": {
        "task": "statements.tasks.close_signing_at_deadlines",
        "schedule": float(env("DEADLINE_SWEEP_SECONDS", "60")),
    },
    "release-embargoed-publications": {
        "task": "statements.tasks.release_due_publications",
        "schedule": float(env("EMBARGO_SWEEP_SECONDS", "60")),
    },
    "prepare-stale-publications": {
        "task": "statements.tasks.prepare_stale_publications",
        "schedule": float(env("EMBARGO_SWEEP_SECONDS", "60")),
    },
    "signature-reminders": {
        "task": "statements.tasks.send_signature_reminders",
        "schedule": float(env("REMINDER_SWEEP_SECONDS", "300")),
    },
    # Sent (and given-up) messages lose their text after OUTBOX_BODY_RETENTION_DAYS.
    "drop-old-email-bodies": {
        "task": "statements.tasks.drop_old_email_bodies",
        "schedule": 3600.0,
    },
    "purge-unconfirmed-signatures": {
        "task": "statements.tasks.purge_unconfirmed_signatures",
        "schedule": 3600.0,
    },
    # The audit log against its anchors (statements/anchors.py); operators are emailed on failure.
    "check-audit-log": {
        "task": "statements.tasks.check_audit_log",
        "schedule": float(env("AUDIT_CHECK_SECONDS", "3600")),
    },
}
# Organisations that have neither signed nor declined are reminded this many days before a
# statement's signing deadline (once per organisation per statement).
SIGNATURE_REMINDER_DAYS = float(env("SIGNATURE_REMINDER_DAYS", "2"))
# A coordinator reminds an organisation that has not answered at most once in this many hours
# (per statement), however often the roster's buttons are pressed.
SIGNATURE_MANUAL_REMINDER_HOURS = float(env("SIGNATURE_MANUAL_REMINDER_HOURS", "12"))
if SIGNATURE_MANUAL_REMINDER_HOURS <= 0:
    raise ImproperlyConfigured("SIGNATURE_MANUAL_REMINDER_HOURS must be a positive number of hours.")
# A publication still pending after this long lost its task; the sweep queues it again.
PUBLICATION_STALE_SECONDS = int(env("PUBLICATION_STALE_SECONDS", "300"))
# An issue whose preparation was started this many times and never finished (the worker was
# killed each time: memory, time limit) is marked failed with the reason, for a coordinator to retry.
PUBLICATION_MAX_ATTEMPTS = int(env("PUBLICATION_MAX_ATTEMPTS", "3"))
# A published PDF prints individual signatories' names (in an annex) up to this many; above it,
# it prints their number, and the names are in the files it carries (signatories.csv and .json)
# and on the statement's signatories page. 5,000 names take about 25 pages and 3 s to lay out
# (docs/benchmarks.md).
PDF_MAX_PRINTED_INDIVIDUALS = int(env("PDF_MAX_PRINTED_INDIVIDUALS", "5000"))
# The largest file /verify/ accepts: a request with a longer body is refused (413) before it is
# read, and no more of a file than this is kept while it arrives (statements/uploads.py).
VERIFY_MAX_UPLOAD_BYTES = int(env("VERIFY_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
# An uploaded PDF is checked in a child process forked from the worker (statements/sandbox.py),
# limited to this much CPU time and memory of its own (beyond what it held when it began), and
# killed if it has not answered within VERIFY_TIMEOUT_SECONDS; a file that reaches a limit is refused as too
# complex to check. The coalition's own published files (by SHA-256) are checked in the worker.
VERIFY_CPU_SECONDS = int(env("VERIFY_CPU_SECONDS", "3"))
VERIFY_MEMORY_MB = int(env("VERIFY_MEMORY_MB", "512"))
VERIFY_TIMEOUT_SECONDS = float(env("VERIFY_TIMEOUT_SECONDS", "4"))
# The longest statement text and summary a form accepts, in characters (a title: 300).
STATEMENT_BODY_MAX_CHARS = int(env("STATEMENT_BODY_MAX_CHARS", "100000"))
STATEMENT_SUMMARY_MAX_CHARS = int(env("STATEMENT_SUMMARY_MAX_CHARS", "2000"))

# Email. Development prints to the console; production sets EMAIL_HOST and friends.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if env("EMAIL_HOST") else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))  # for the file backend
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(env("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Coalition Statements <statements@example.org>")
SERVER_EMAIL = env("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# How many times delivery of one message is tried before it is shown to coordinators as failed.
OUTBOX_MAX_ATTEMPTS = int(env("OUTBOX_MAX_ATTEMPTS", "8"))
# After a failed attempt a message waits OUTBOX_RETRY_BASE_SECONDS, doubled on each further
# failure up to OUTBOX_RETRY_MAX_SECONDS (1, 2, 4 ... 64 minutes: about two hours for 8 attempts).
OUTBOX_RETRY_BASE_SECONDS = float(env("OUTBOX_RETRY_BASE_SECONDS", "60"))
OUTBOX_RETRY_MAX_SECONDS = float(env("OUTBOX_RETRY_MAX_SECONDS", "3600"))
# Messages to many recipients go out in batches of this many, one task and SMTP connection each.
OUTBOX_BATCH_SIZE = int(env("OUTBOX_BATCH_SIZE", "100"))
# The sweep leaves a message this long to the task queued when it was written before queueing it
# again itself.
OUTBOX_SWEEP_GRACE_SECONDS = float(env("OUTBOX_SWEEP_GRACE_SECONDS", "120"))

# The text of a message (its links: password reset, invitation, confirmation) is kept this many
# days after it was sent, or after delivery was given up on, then deleted (beat, hourly); the row
# stays, with its recipient, subject and times.
OUTBOX_BODY_RETENTION_DAYS = float(env("OUTBOX_BODY_RETENTION_DAYS", "7"))

INVITATION_VALID_DAYS = int(env("INVITATION_VALID_DAYS", "14"))

# Individual signatures: the emailed confirmation link works this many hours. Rate limits
# ("amount/period", period s, m, h or d) count sign submissions per client IP and per email
# address in the cache (Redis in production, so they hold across web processes);
# SIGNING_RATE_LIMITS_ENABLED=0 lifts them, for benchmarks only.
SIGNATURE_CONFIRMATION_HOURS = int(env("SIGNATURE_CONFIRMATION_HOURS", "72"))
# Individuals' personal data (statements/services/privacy.py): the emailed link that erases a person's
# signatures works ERASURE_LINK_HOURS; a signature never confirmed is erased (hourly, by beat)
# UNCONFIRMED_SIGNATURE_DAYS after its confirmation link expired.
ERASURE_LINK_HOURS = int(env("ERASURE_LINK_HOURS", "24"))
UNCONFIRMED_SIGNATURE_DAYS = int(env("UNCONFIRMED_SIGNATURE_DAYS", "7"))
SIGNING_RATE_LIMITS_ENABLED = env_bool("SIGNING_RATE_LIMITS_ENABLED", True)
SIGNING_RATE_LIMITS = {
    "ip": env("SIGNING_RATE_LIMIT_PER_IP", "60/h"),
    "email": env("SIGNING_RATE_LIMIT_PER_EMAIL", "5/h"),
}
# Public subscription to new publications: the confirmation link works this many hours; requests
# are limited per client IP and per address like signing.
SUBSCRIPTION_CONFIRMATION_HOURS = int(env("SUBSCRIPTION_CONFIRMATION_HOURS", "72"))
SUBSCRIPTION_RATE_LIMITS = {
    "ip": env("SUBSCRIPTION_RATE_LIMIT_PER_IP", "20/h"),
    "email": env("SUBSCRIPTION_RATE_LIMIT_PER_EMAIL", "3/h"),
}
# Invitations sent, per coordinator and per client IP; PDFs uploaded to /verify/ (checking a
# signature is CPU-heavy), per client IP. Not lifted by SIGNING_RATE_LIMITS_ENABLED.
INVITATION_RATE_LIMITS = {
    "user": env("INVITATION_RATE_LIMIT_PER_USER", "30/h"),
    "ip": env("INVITATION_RATE_LIMIT_PER_IP", "30/h"),
}
VERIFY_RATE_LIMITS = {"ip": env("VERIFY_RATE_LIMIT_PER_IP", "20/h")}

# Signing published PDFs (statements/pdf_signing.py): a PKCS#12 file and its passphrase, or PEM key and
# certificate files; the root certificate is the trust root of verification and is offered for
# download on /verify/. A timestamp server URL turns PAdES B-B into B-T. In development, with
# nothing set, a development root CA and signing certificate are made in var/signing/ on first use
# (or by `manage.py signing_identity`); with DEBUG off, a missing identity is an error when signing.
SIGNING_DEV_DIR = BASE_DIR / "var" / "signing"
SIGNING_PKCS12_FILE = env("SIGNING_PKCS12_FILE")
SIGNING_PKCS12_PASSPHRASE = env("SIGNING_PKCS12_PASSPHRASE")
# A key on a PKCS#11 token or HSM (docs/deploy.md): the module's path, the token's and the key's
# labels, and the PIN (or a file holding it). The certificate is the token's object labelled
# SIGNING_PKCS11_CERT_LABEL (default: the key's label), or SIGNING_CERT_FILE when that is set.
SIGNING_PKCS11_MODULE = env("SIGNING_PKCS11_MODULE")
SIGNING_PKCS11_TOKEN_LABEL = env("SIGNING_PKCS11_TOKEN_LABEL")
SIGNING_PKCS11_KEY_LABEL = env("SIGNING_PKCS11_KEY_LABEL")
SIGNING_PKCS11_CERT_LABEL = env("SIGNING_PKCS11_CERT_LABEL")
SIGNING_PKCS11_PIN = env("SIGNING_PKCS11_PIN")
SIGNING_PKCS11_PIN_FILE = env("SIGNING_PKCS11_PIN_FILE")
_signing_dev_default = DEBUG and not SIGNING_PKCS12_FILE and not SIGNING_PKCS11_MODULE
SIGNING_KEY_FILE = env("SIGNING_KEY_FILE", str(SIGNING_DEV_DIR / "signing-key.pem") if _signing_dev_default else "")
SIGNING_KEY_PASSPHRASE = env("SIGNING_KEY_PASSPHRASE")
SIGNING_CERT_FILE = env("SIGNING_CERT_FILE", str(SIGNING_DEV_DIR / "signing-cert.pem") if _signing_dev_default else "")
SIGNING_ROOT_CERT_FILE = env(
    "SIGNING_ROOT_CERT_FILE", str(SIGNING_DEV_DIR / "root-cert.pem") if _signing_dev_default else ""
)
SIGNING_TIMESTAMP_URL = env("SIGNING_TIMESTAMP_URL")
# Long-term validation (PAdES B-LTA, docs/deploy.md): with a timestamp server, each signature is
# followed by the certificates and revocation information that prove it valid (the DSS) and by a
# document timestamp. The timestamp authority's root certificate(s), PEM; the certificate
# revocation lists to embed (PEM or DER files, comma-separated; the development root CA makes its
# own); and whether pyHanko may fetch CRLs and OCSP responses named in the certificates.
SIGNING_TIMESTAMP_ROOT_CERT_FILE = env("SIGNING_TIMESTAMP_ROOT_CERT_FILE")
SIGNING_CRL_FILES = env_list("SIGNING_CRL_FILES", [str(SIGNING_DEV_DIR / "root-crl.pem")] if _signing_dev_default else [])
SIGNING_REVOCATION_FETCH = env_bool("SIGNING_REVOCATION_FETCH", False)

# Security headers that hold in development too; the production-only ones follow.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Sessions are kept in the database and read from the cache (coalition/sessions.py).
SESSION_ENGINE = "coalition.sessions"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # `preload` in the header lets the domain be added to browsers' built-in HTTPS-only lists (by a
    # submission to hstspreload.org; the header alone adds nothing). An operator who does not
    # want that for their domain sets SECURE_HSTS_PRELOAD=0, and check --deploy then says W021.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (see docs/deploy.md).
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy (django-csp): the site runs no inline script or style and loads
# nothing from elsewhere; the TOTP enrolment's QR code is a data: image. No nonce, so anonymous
# visitors' cached copies of public pages carry the same header as fresh ones.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Making a PDF: fontTools reports every font it subsets, WeasyPrint every step, at INFO.
        "fontTools": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        # Long-term validation: the certificate validator narrates every path it checks, at INFO.
        "pyhanko_certvalidator": {"level": "WARNING"},
    },
}
