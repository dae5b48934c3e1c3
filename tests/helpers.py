"""What several test modules share, so that none imports another test module (tests/factories.py
makes the objects; tests/tsa.py and tests/smtp.py are servers of their own). Fixtures here are used
by the modules that import them (pytest finds a fixture among a module's names)."""

import datetime
import importlib
import io
import os
import re
import secrets
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Callable

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator import policy_decl as certvalidator_policy
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.registry import SimpleTrustManager

from coalition import unsubscribe
from coalition.models import OrganisationRole, OutboundEmail
from statements import pdf, pdf_signing, services, text
from statements.models import Signature
from statements.services import Draft, cosigning, subscriptions

from . import factories
from .factories import make_statement

APPEND_ONLY = importlib.import_module("coalition.migrations.0004_audit_append_only")
ROOT = Path(__file__).resolve().parents[1]

MEMBERS = [
    "Truth Hounds",
    "Human Rights Center ZMINA",
    "Центр громадянських свобод",
    "Харківська правозахисна група",
    "Ukrainian Legal Advisory Group",
    "Східноукраїнський центр громадських ініціатив",
]


def make_document(**overrides) -> pdf.PdfDocument:
    """A statement's PDF as the publisher describes it, in Ukrainian, with six organisations and two
    individuals; any field may be overridden."""
    title = "Заява щодо виконання ордерів Міжнародного кримінального суду"
    body = "Ми закликаємо держави виконувати ордери суду.\n\nWe call on states to execute the warrants."
    values = dict(
        coalition_name="Коаліція «Україна. П'ята ранку»",
        title=title,
        language="uk",
        body_html=text.render_markdown(body),
        text_sha256=text.sha256_of(title, "", body),
        verification_url="https://statements.example.org/verify/?sha256=" + "0" * 64,
        short_url="statements.example.org/v/a1b2",
        date=datetime.date(2024, 9, 3),
        place="Київ",
        organisations=MEMBERS,
        individuals=[pdf.Signatory("Олена Коваленко", "Truth Hounds"), pdf.Signatory("Andriy Melnyk")],
    )
    values.update(overrides)
    return pdf.PdfDocument(**values)


def pdftotext(data: bytes) -> str:
    """A PDF's words (poppler's pdftotext), separated by single spaces."""
    return " ".join(subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True,
                                   check=True).stdout.decode().split())


def closed_statement(coalition, coordinator, signer, member_org, **extra):
    """A statement signed by member_org and by one confirmed individual, closed for signature."""
    statement = factories.make_statement(coalition, by=coordinator, status="open", title="Stop the deportations",
                                         allows_individuals=True, **extra)
    cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                    sha256=statement.signed_revision.sha256)
    Signature.objects.create(
        statement=statement, revision=statement.signed_revision, sha256=statement.signed_revision.sha256,
        kind=Signature.Kind.INDIVIDUAL, name="Oleksandra Matviichuk", affiliation="Kyiv",
        email="oleksandra@example.org", confirmed_at=timezone.now(),
    )
    services.close_signing(statement, by=coordinator)
    statement.refresh_from_db()
    return statement


def publish(statement, coordinator, capture, **kwargs):
    """Publish, running the on-commit work (the PDF task) at once; `capture` is pytest-django's
    django_capture_on_commit_callbacks. Returns issue 1."""
    with capture(execute=True):
        services.publish(statement, by=coordinator, **kwargs)
    statement.refresh_from_db()
    return statement.publications.get(number=1)


@contextmanager
def append_only_trigger_dropped():
    """What someone with the database's owner rights can do: drop the trigger that keeps the audit
    log append-only (PostgreSQL; SQLite has none), and put it back afterwards."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(APPEND_ONLY.DROP_SQL)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(APPEND_ONLY.APPEND_ONLY_SQL)


# The URLs of the whole site, classified (tests/test_csrf_sweep.py; tests/test_fuzz_public.py and
# tests/test_human_pages.py visit them) ---------------------------------------------------------


PAGE, FORM, ACTION = "read-only page", "form page", "action"


@dataclass
class Url:
    kind: str
    args: Callable[[dict], list] = lambda world: []
    user: str = "coordinator"  # who asks: "coordinator", "anonymous" or "operator" (the admin)
    get: int = 200  # what a GET answers, for pages and forms
    csrf_exempt: str = ""  # why a form may be posted without a token (then it must be)
    query: str = ""


def draft(world):
    return [world["draft"].slug]


def open_(world):
    return [world["open"].slug]


def published(world):
    return [world["published"].slug]


URLS: dict[str, Url] = {
    # The public archive: cached for anonymous visitors, GET only.
    "home": Url(PAGE, user="anonymous"),
    "statement_list": Url(PAGE, user="anonymous"),
    "feed": Url(PAGE, user="anonymous"),
    "api_statements": Url(PAGE, user="anonymous"),
    "api_statement": Url(PAGE, published, user="anonymous"),
    "sitemap": Url(PAGE, user="anonymous"),
    "robots_txt": Url(PAGE, user="anonymous"),
    "statement_detail": Url(PAGE, published, user="anonymous"),
    "statement_signatories": Url(PAGE, published, user="anonymous"),
    "statement_preview": Url(PAGE, lambda w: [w["published"].slug, "en"], user="anonymous"),
    "statement_embed": Url(PAGE, published, user="anonymous"),
    "api_statement_signatories": Url(PAGE, published, user="anonymous"),
    "statement_pdf": Url(PAGE, published, user="anonymous", get=404),  # its PDF is still being made
    "organisation_list": Url(PAGE, user="anonymous"),
    "organisation_detail": Url(PAGE, lambda w: [w["organisation"].slug], user="anonymous"),
    "coalition_detail": Url(PAGE, lambda w: [w["coalition"].slug], user="anonymous"),
    "healthz": Url(PAGE, user="anonymous"),
    # Sets the language cookie only (a preference, not data), so a link on cached pages can.
    "choose_language": Url(PAGE, lambda w: ["uk"], user="anonymous", get=302),
    "verify_root": Url(PAGE, user="anonymous"),
    "short_link": Url(PAGE, lambda w: [w["published"].pk], user="anonymous", get=302),
    "subscription_sent": Url(PAGE, user="anonymous"),
    "signature_sent": Url(PAGE, open_, user="anonymous"),
    "privacy": Url(PAGE, user="anonymous"),
    "privacy_erase_sent": Url(PAGE, user="anonymous"),
    "transparency": Url(PAGE, user="anonymous"),
    # Signed-in pages that change nothing.
    "dashboard": Url(PAGE),
    "statement_history": Url(PAGE, draft),
    "statement_diff": Url(PAGE, draft),
    "statement_events": Url(PAGE, draft),
    "statement_review": Url(PAGE, lambda w: [w["draft"].slug, "open"]),  # the confirming form posts elsewhere
    "statement_roster": Url(PAGE, open_),
    "statement_signatures_csv": Url(PAGE, open_),
    "outbox_problems": Url(PAGE, lambda w: [w["coalition"].slug]),
    "coalition_people": Url(PAGE, lambda w: [w["coalition"].slug]),
    "coalition_embedding": Url(FORM, lambda w: [w["coalition"].slug]),
    "coalition_look": Url(FORM, lambda w: [w["coalition"].slug]),
    "coalition_look_css": Url(PAGE, lambda w: [w["coalition"].slug, "000000000000"], user="anonymous"),
    "coalition_logo": Url(PAGE, lambda w: [w["coalition"].slug, "logo-" + "0" * 20, "svg"], user="anonymous", get=404),
    # Form pages.
    "verify": Url(FORM, user="anonymous"),  # the POST only checks a file, but it is a form all the same
    "subscribe": Url(FORM, user="anonymous"),
    "privacy_erase": Url(FORM, user="anonymous"),
    # A link that was never sent: refused (404) either way, but the token check comes first.
    "privacy_erase_confirm": Url(FORM, lambda w: ["not-a-link-we-sent"], user="anonymous", get=404),
    "subscription_confirm": Url(FORM, lambda w: [w["subscription_token"]], user="anonymous"),
    "unsubscribe": Url(FORM, lambda w: [w["unsubscribe_token"]], user="anonymous", csrf_exempt=(
        "RFC 8058 one-click unsubscribe: mail programs post it without a session; the signed token "
        "in the address authorises it")),
    "statement_sign": Url(FORM, open_),
    "signature_confirm": Url(FORM, lambda w: [w["open"].slug, w["signature_token"]], user="anonymous"),
    "statement_create": Url(FORM),
    "statement_edit": Url(FORM, draft),
    "statement_translate": Url(FORM, lambda w: [w["draft"].slug, "uk"]),
    "invitations": Url(FORM, lambda w: [w["coalition"].slug]),
    "invitation_accept": Url(FORM, lambda w: [w["invitation"].token], user="anonymous"),
    "notification_preferences": Url(FORM),
    "account_time_zone": Url(FORM),
    # Actions.
    "set_language": Url(ACTION),
    "invitation_revoke": Url(ACTION, lambda w: [w["invitation"].pk]),
    "outbox_retry": Url(ACTION, lambda w: [w["coalition"].slug, w["email"].pk]),
    # The coordinator's own role at the member organisation: they may sign for it.
    "coalition_people_grant_signing": Url(ACTION, lambda w: [w["coalition"].slug, w["role"].pk]),
    "coalition_people_withdraw_signing": Url(ACTION, lambda w: [w["coalition"].slug, w["role"].pk]),
    "coalition_people_remove": Url(ACTION, lambda w: [w["coalition"].slug, w["role"].pk]),
    "comment_add": Url(ACTION, draft),
    "comment_resolve": Url(ACTION, lambda w: [w["draft"].slug, w["comment"].pk]),
    "statement_open": Url(ACTION, draft),
    "statement_close": Url(ACTION, open_),
    "statement_publish": Url(ACTION, lambda w: [w["closed"].slug]),
    "statement_reopen": Url(ACTION, lambda w: [w["closed"].slug]),
    "statement_deadline": Url(ACTION, open_),
    "statement_withdraw": Url(ACTION, draft),
    "statement_correct": Url(ACTION, published),
    "publication_retry": Url(ACTION, lambda w: [w["published"].slug, 1]),
    "statement_decline": Url(ACTION, open_),
    "signature_withdraw": Url(ACTION, lambda w: [w["open"].slug, w["signature"].pk]),
    "signature_confirm_text": Url(ACTION, lambda w: [w["open"].slug, w["signature"].pk]),
    "signature_hide": Url(ACTION, lambda w: [w["open"].slug, w["signature"].pk]),
    "statement_invite_partner": Url(ACTION, open_),
    "statement_signatory_order": Url(ACTION, open_),
    "statement_remind": Url(ACTION, open_),
    "statement_remind_organisation": Url(ACTION, lambda w: [w["open"].slug, w["organisation"].slug]),
}


# allauth and the admin: representatives of their pages, not every one of them.
REPRESENTATIVES: dict[str, Url] = {
    "account_login": Url(FORM, user="anonymous"),
    "account_logout": Url(FORM),
    "account_reset_password": Url(FORM, user="anonymous"),
    "account_change_password": Url(FORM),
    "mfa_index": Url(PAGE),
    "mfa_generate_recovery_codes": Url(FORM, get=302),  # asks for the password again first
    "mfa_deactivate_totp": Url(FORM, get=302),  # likewise
    "admin:login": Url(FORM, user="anonymous", get=302),  # sends to the site's own sign-in
    "admin:logout": Url(ACTION, user="operator"),
    "admin:coalition_organisation_change": Url(FORM, lambda w: [w["organisation"].pk], user="operator"),
}


ALL = {**URLS, **REPRESENTATIVES}


@pytest.fixture
def world(coalition, member_org, coordinator):
    """One of each object the URLs act on; the coordinator also signs for the member organisation."""
    role = OrganisationRole.objects.create(user=coordinator, organisation=member_org, coalition=coalition, can_sign=True)
    draft = factories.make_statement(coalition, by=coordinator, title="A draft")
    open_statement = factories.make_statement(coalition, by=coordinator, status="open", title="Open",
                                              allows_individuals=True)
    signature = cosigning.sign_for_organisation(open_statement, by=coordinator, organisation=member_org,
                                                sha256=open_statement.signed_revision.sha256)
    signature_token = cosigning.sign_as_individual(
        open_statement, person=cosigning.Individual(name="Olena", email="olena@example.org"), ip="127.0.0.1")
    email = OutboundEmail.objects.create(
        kind="invitation", coalition=coalition, dedupe_key="sweep", recipient="someone@example.org",
        subject="Invitation", body_text="Join us.", message_id="<sweep@example.org>", attempts=8,
        failed_at=timezone.now(), last_error="550 no such user")
    return {
        "coalition": coalition,
        "organisation": member_org,
        "coordinator": coordinator,
        "role": role,
        "draft": draft,
        "open": open_statement,
        "closed": factories.make_statement(coalition, by=coordinator, status="closed", title="Closed"),
        "published": factories.make_statement(coalition, by=coordinator, status="published", title="Published"),
        "comment": services.add_comment(draft, by=coordinator, body="A comment."),
        "signature": signature,
        "signature_token": signature_token,
        "invitation": factories.InvitationFactory(coalition=coalition, organisation=member_org),
        "email": email,
        "subscription_token": subscriptions.subscribe("reader@example.org", language="en", ip="127.0.0.2"),
        "unsubscribe_token": unsubscribe.make_token("reader@example.org", sorted(unsubscribe.BULK_KINDS)[0]),
    }


def client_for(world, who: str, *, enforce_csrf_checks: bool) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    if who == "coordinator":
        client.force_login(world["coordinator"])
    elif who == "operator":
        operator = factories.UserFactory(is_staff=True, is_superuser=True)
        factories.enrol_totp(operator)
        client.force_login(operator)
    return client


# Signing in --------------------------------------------------------------------------------------


def sign_in_with_code(client, user):
    response = client.post(reverse("account_login"), {"login": user.email, "password": factories.PASSWORD})
    assert response.url == reverse("mfa_authenticate")
    return client.post(reverse("mfa_authenticate"), {"code": factories.totp_code(user)})


# Signing as an individual (tests/test_individual_signing.py) -------------------------------------


def sign_url(statement):
    return reverse("statement_sign", args=[statement.slug])


def person(**changes):
    return {"name": "Iryna Koval", "affiliation": "Lawyer", "email": "Iryna.Koval@Example.org", "website": "", **changes}


def confirmation_link(email: OutboundEmail) -> str:
    return re.search(r"http://\S+/sign/confirm/\S+/", email.body_text).group(0).removeprefix("http://testserver")


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def sign_and_get_link(client, statement, **changes) -> str:
    client.post(sign_url(statement), person(**changes))
    return path_of(confirmation_link(OutboundEmail.objects.filter(kind="signature_confirmation").latest("id")))


# The name rules' sign form and the organisation admin page (tests/test_hardening_names.py) -------


def sign(client, statement, **changes):
    data = {"name": "Olena Koval", "affiliation": "Lawyer, Kharkiv", "email": "victim@example.net",
            "website": "", **changes}
    return client.post(reverse("statement_sign", args=[statement.slug]), data)


def inline_management() -> dict[str, str]:
    """What the organisation admin page posts besides the name: its date and no staff roles."""
    prefix = "roles"
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
            "created_at_0": "2026-01-05", "created_at_1": "10:00:00"}


# Production settings in a process of their own (tests/test_deploy_settings.py) -------------------


PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "statements.example.org,testserver",
    "CSRF_TRUSTED_ORIGINS": "https://statements.example.org",
    "SITE_URL": "https://statements.example.org",
    "BEHIND_TLS_PROXY": "1",
    "AUDIT_HASH_KEY": secrets.token_urlsafe(32),
    "MFA_ENCRYPTION_KEYS": "cHJvZHVjdGlvbi10ZXN0LWtleS0zMi1ieXRlcy1vayE=",
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    # Production as a deployment would run it: without the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE.
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "BEHIND_TLS_PROXY", "SECURE_HSTS_PRELOAD",
                          "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


# Hostile text (tests/test_xss_sweep.py) and a harmless logo (tests/test_identity.py) -------------


PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "[link](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=javascript:alert(1)></iframe>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    '{{ 7*7 }} {% now "Y" %} ${7*7}',
    "<style>body{display:none}</style>",
    "<b><i",
    "javascript&colon;alert(1) &lt;script&gt;",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<object data="data:text/html,<script>alert(1)</script>"></object>',
    "<embed src=javascript:alert(1)>",
    "<form><button formaction=javascript:alert(1)>x</button></form>",
    "<details open ontoggle=alert(1)>",
    "![x](javascript:alert(1))",
    "<a href=' javascript:alert(1)'>y</a> <a href=\"jav&#x09;ascript:alert(1)\">z</a>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
]


LOGO = b"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" width="10" height="10">
<circle cx="5" cy="5" r="4" fill="#7a1f3d"/></svg>"""


# The reader's language (tests/test_reader_language.py) -------------------------------------------


UK = {"HTTP_ACCEPT_LANGUAGE": "uk"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def translated(coalition, coordinator, *, title="On deportations", stale=False, status="published",
               organisation=None, signer=None):
    """A statement in English with a Ukrainian translation; `stale`: the English text changed after
    it was translated. Signed by `organisation` (through `signer`) when given."""
    statement = make_statement(coalition, by=coordinator, title=title, summary=f"{title}: the summary.",
                               body="Children were deported.")
    services.add_translation(statement, by=coordinator, language="uk", based_on=None,
                             translation_of=statement.current_revision,
                             draft=Draft(f"Українською: {title}", f"Українське резюме: {title}.", "Дітей депортували."))
    if stale:
        services.save_revision(statement, by=coordinator, based_on=statement.current_revision,
                               draft=Draft(title, f"{title}: the summary.", "Children were deported, and more."))
    if status == "draft":
        return statement
    services.open_for_signature(statement, by=coordinator, deadline=None)
    statement.refresh_from_db()
    if organisation is not None:
        cosigning.sign_for_organisation(statement, by=signer, organisation=organisation,
                                        sha256=statement.signed_revision.sha256)
    if status == "published":
        services.close_signing(statement, by=coordinator)
        services.publish(statement, by=coordinator)
    statement.refresh_from_db()
    return statement


@pytest.fixture
def statement(coalition, coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # its PDF is made: the feed lists it
        return translated(coalition, coordinator)


def page(client, url, headers=UK, **params) -> str:
    response = client.get(url, params, **headers)
    assert response.status_code == 200
    return response.content.decode()


# /verify/ (tests/test_verify.py) and the rate limits (tests/test_ratelimits.py) ------------------


VERIFY = "/verify/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded and published files go to the test's own folder (autouse where imported)."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(name="published")
def published_issue(coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    return publish(statement, coordinator, django_capture_on_commit_callbacks)


def upload(client, data: bytes, name="statement.pdf", **extra):
    return client.post(VERIFY, {"file": SimpleUploadedFile(name, data, "application/pdf")}, **extra)


DEAD_REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:1/1", "OPTIONS": {"socket_connect_timeout": 0.2}}}


# Reading signed PDFs (tests/test_pdf_contents.py, tests/test_ltv.py) ------------------------------


def attachments(data: bytes) -> dict[str, bytes]:
    with pikepdf.open(io.BytesIO(data)) as document:
        return {name: spec.get_file().read_bytes() for name, spec in document.attachments.items()}


def lta_spec(tsa) -> PdfSignatureValidationSpec:
    """What a careful verifier years from now uses: the coalition's root for the signature, the
    TSA's root for timestamps, revocation information required for every certificate, and
    nothing from the network."""
    revinfo = certvalidator_policy.CertRevTrustPolicy(
        revocation_checking_policy=certvalidator_policy.REQUIRE_REVINFO,
        freshness_req_type=certvalidator_policy.FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION,
    )
    return PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build([pdf_signing.trust_root()]), revinfo_policy=revinfo),
        ts_cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build([tsa.root]), revinfo_policy=revinfo),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY),
    ))


def signature_of(data: bytes):
    return PdfFileReader(BytesIO(data)).embedded_regular_signatures[0]
