"""Rate limits on sign-in, password reset, invitations, individual signing, subscribing and /verify/
uploads: a 429 with the page and what was typed, counters shared by every process through Redis,
a 503 (never a 500) when the counters cannot be reached; and sign-in and password reset that do
not tell whether an address has an account."""

import json
import logging
import os
import subprocess
import sys
import uuid

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from coalition.models import Invitation, OutboundEmail
from coalition.settings import _redis_cache_url
from statements.models import Signature, Subscriber

from . import factories
from .conftest import ROOT
from .factories import make_statement
from .helpers import DEAD_REDIS

pytestmark = pytest.mark.django_db

NOT_OURS = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def upload(client, data=NOT_OURS, **extra):
    return client.post(reverse("verify"), {"file": SimpleUploadedFile("statement.pdf", data, "application/pdf")},
                       **extra)


def invite(client, coalition, organisation, email, **extra):
    return client.post(reverse("invitations", args=[coalition.slug]),
                       {"email": email, "role": "staff", "organisation": organisation.pk, "language": "en"}, **extra)


def sign_in(client, email, password="wrong-password"):
    return client.post(reverse("account_login"), {"login": email, "password": password})


@pytest.fixture
def open_statement(coalition, coordinator):
    return make_statement(coalition, by=coordinator, status="open", allows_individuals=True, title="Open to all")


# Each endpoint's limit: 429, a message, what was typed kept -------------------------------------


def test_too_many_invitations_by_one_coordinator_are_refused_with_the_form_kept(client, coalition, member_org,
                                                                              coordinator, settings):
    settings.INVITATION_RATE_LIMITS = {"user": "2/h", "ip": "100/h"}
    client.force_login(coordinator)
    assert [invite(client, coalition, member_org, f"p{i}@example.org").status_code for i in range(2)] == [302, 302]
    response = invite(client, coalition, member_org, "third.person@example.org")
    page = response.content.decode()
    assert response.status_code == 429
    assert "Too many invitations were sent" in page and 'value="third.person@example.org"' in page
    assert Invitation.objects.count() == 2


def test_invitations_are_also_counted_per_ip_across_coordinators(client, coalition, member_org, coordinator, settings):
    settings.INVITATION_RATE_LIMITS = {"user": "100/h", "ip": "2/h"}
    other = factories.CoordinatorFactory(coalition=coalition).user
    client.force_login(coordinator)
    assert invite(client, coalition, member_org, "a@example.org").status_code == 302
    client.force_login(other)
    assert invite(client, coalition, member_org, "b@example.org").status_code == 302
    assert invite(client, coalition, member_org, "c@example.org").status_code == 429
    assert invite(client, coalition, member_org, "c@example.org", REMOTE_ADDR="192.0.2.9").status_code == 302


def test_too_many_verify_uploads_from_one_ip_are_refused_but_a_sha256_still_answers(client, settings):
    settings.VERIFY_RATE_LIMITS = {"ip": "2/h"}
    assert [upload(client).status_code for _ in range(2)] == [200, 200]
    response = upload(client)
    assert response.status_code == 429
    assert "Too many files were sent for checking" in response.content.decode()
    assert "Not a document we published" not in response.content.decode()  # the file was not checked
    by_hash = client.post(reverse("verify"), {"sha256": "ab" * 32})
    assert by_hash.status_code == 200 and "Not a document we published" in by_hash.content.decode()
    assert upload(client, REMOTE_ADDR="192.0.2.9").status_code == 200


def test_too_many_failed_sign_ins_for_one_address_answer_429_with_the_address_kept(client, signer, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "100/m/ip,2/5m/key"}
    assert [sign_in(client, signer.email).status_code for _ in range(2)] == [200, 200]
    response = sign_in(client, signer.email, password="coalition-demo")
    page = response.content.decode()
    assert response.status_code == 429
    assert "Too many failed login attempts" in page and f'value="{signer.email}"' in page
    assert "_auth_user_id" not in client.session


def test_too_many_password_resets_for_one_address_answer_429_with_a_translated_page(client, signer, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "reset_password": "100/m/ip,1/h/key"}
    assert client.post(reverse("account_reset_password"), {"email": signer.email}).status_code == 302
    response = client.post(reverse("account_reset_password"), {"email": signer.email})
    assert response.status_code == 429 and "Too many requests were sent" in response.content.decode()
    client.cookies["django_language"] = "uk"
    ukrainian = client.post(reverse("account_reset_password"), {"email": signer.email})
    assert ukrainian.status_code == 429 and "Забагато запитів" in ukrainian.content.decode()
    assert OutboundEmail.objects.filter(recipient=signer.email).count() == 1


# Redis down: every limited action refused with a 503, everything else served --------------------


def _sign_in(client, ctx):
    return sign_in(client, ctx["signer"].email, password=factories.PASSWORD)


def _reset(client, ctx):
    return client.post(reverse("account_reset_password"), {"email": ctx["signer"].email})


def _invite(client, ctx):
    client.force_login(ctx["coordinator"])
    return invite(client, ctx["coalition"], ctx["member_org"], "new.person@example.org")


def _sign_as_individual(client, ctx):
    return client.post(reverse("statement_sign", args=[ctx["statement"].slug]),
                       {"name": "Iryna Koval", "affiliation": "", "email": "iryna@example.org", "website": ""})


def _subscribe(client, ctx):
    return client.post(reverse("subscribe"), {"email": "reader@example.net"})


def _verify_upload(client, ctx):
    return upload(client)


@pytest.mark.parametrize("action", [_sign_in, _reset, _invite, _sign_as_individual, _subscribe, _verify_upload],
                         ids=lambda action: action.__name__.strip("_"))
def test_with_the_counters_unreachable_each_limited_action_is_refused_with_503(
        client, settings, caplog, coalition, member_org, coordinator, signer, open_statement, action):
    ctx = {"coalition": coalition, "member_org": member_org, "coordinator": coordinator, "signer": signer,
           "statement": open_statement}
    settings.CACHES = DEAD_REDIS
    with caplog.at_level(logging.WARNING, logger="coalition.ratelimits"):
        response = action(client, ctx)
    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode() and response["Retry-After"] == "120"
    assert any(record.levelno == logging.WARNING for record in caplog.records)
    assert "_auth_user_id" not in client.session or action is _invite
    assert not Invitation.objects.exists() and not Subscriber.objects.exists()
    assert not Signature.objects.filter(kind=Signature.Kind.INDIVIDUAL).exists()
    assert not OutboundEmail.objects.exclude(kind="statement_opened").exists()


def test_the_503_page_is_translated(client, settings, db):
    settings.CACHES = DEAD_REDIS
    client.cookies["django_language"] = "uk"
    response = upload(client)
    assert response.status_code == 503 and "тимчасово недоступна" in response.content.decode()


def test_with_the_counters_unreachable_pages_that_count_nothing_still_work(client, settings, open_statement):
    settings.CACHES = DEAD_REDIS
    for url in (reverse("account_login"), reverse("account_reset_password"), reverse("verify"),
                reverse("subscribe"), reverse("statement_sign", args=[open_statement.slug]), "/"):
        assert client.get(url).status_code == 200, url
    assert client.post(reverse("verify"), {"sha256": "ab" * 32}).status_code == 200


# One counter for every process --------------------------------------------------------------------

COUNT_IN_ANOTHER_PROCESS = """
import json, os
import django
django.setup()
from django.test.utils import override_settings
with override_settings(**json.loads(os.environ["RATE_LIMIT_TEST_SETTINGS"])):
    from coalition import ratelimits
    answers = []
    for _ in range(2):
        try:
            ratelimits.check_verify_upload(ip="127.0.0.1")
            answers.append("counted")
        except ratelimits.RateLimited:
            answers.append("limited")
print(json.dumps(answers))
"""


def test_another_process_counts_against_the_same_limit_through_redis(client, settings, redis_broker_url):
    cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache",
             "LOCATION": _redis_cache_url(redis_broker_url), "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    settings.CACHES = {"default": cache}
    settings.VERIFY_RATE_LIMITS = {"ip": "3/h"}
    assert [upload(client).status_code for _ in range(2)] == [200, 200]
    shared = json.dumps({"CACHES": {"default": cache}, "VERIFY_RATE_LIMITS": {"ip": "3/h"}})
    other = subprocess.run(
        [sys.executable, "-c", COUNT_IN_ANOTHER_PROCESS], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "coalition.settings", "RATE_LIMIT_TEST_SETTINGS": shared})
    assert other.returncode == 0, other.stderr
    # The third upload is the other process's; it sees this one's two and refuses a fourth ...
    assert json.loads(other.stdout.strip().splitlines()[-1]) == ["counted", "limited"]
    # ... and this process sees the other's.
    assert upload(client).status_code == 429


# No account enumeration ---------------------------------------------------------------------------


@pytest.fixture
def hasher_calls(monkeypatch):
    """Each password hash computed with the tests' hasher: checking a password (`verify`) hashes
    it through `encode` too, as Django's PBKDF2 hasher does, so `encode` counts the work."""
    calls = []
    original = MD5PasswordHasher.encode

    def counted(self, *args, **kwargs):
        calls.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counted)
    return calls


def _form_errors(response) -> str:
    form = response.context["form"]
    return " ".join(str(message) for messages in form.errors.values() for message in messages)


def test_sign_in_answers_and_hashes_the_same_for_an_unknown_address_and_a_wrong_password(client, signer,
                                                                                       hasher_calls):
    known = sign_in(client, signer.email)
    hashed_for_known = len(hasher_calls)
    hasher_calls.clear()
    unknown = sign_in(client, "nobody-here@example.org")
    assert known.status_code == unknown.status_code == 200
    assert _form_errors(known) == _form_errors(unknown)
    assert "not correct" in _form_errors(unknown)
    assert hashed_for_known >= 1 and len(hasher_calls) == hashed_for_known


def test_password_reset_answers_the_same_and_writes_one_message_either_way(client, signer,
                                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("account_reset_password"), {"email": signer.email}, follow=True)
        unknown = client.post(reverse("account_reset_password"), {"email": "nobody-here@example.org"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert OutboundEmail.objects.get(recipient=signer.email).kind == "account:password_reset_key"
    to_nobody = OutboundEmail.objects.get(recipient="nobody-here@example.org")
    assert to_nobody.kind == "account:unknown_account" and to_nobody.sent_at is not None
    assert "no account on this site uses it" in to_nobody.body_text
    assert "ask your coalition's coordinator to invite you" in to_nobody.body_text
    assert "/accounts/signup/" not in to_nobody.body_text  # sign-up is by invitation only
