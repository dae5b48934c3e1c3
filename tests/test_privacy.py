"""Individuals' personal data: the address is never public; erasure through an emailed link
(the same answer for any address, a GET erases nothing, a used or expired link says so); a
published statement keeps the name, not the address; the audit log keeps a hash; signatures
never confirmed are erased; the privacy page."""

import hashlib
import hmac
import json
import re
import statistics
import subprocess
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from coalition import audit
from coalition.models import AuditEvent, OutboundEmail

from statements import services, tasks
from statements.models import Publication, Signature
from statements.services import privacy

from .factories import OrganisationRoleFactory, make_statement

pytestmark = pytest.mark.django_db

EMAIL = "Olena.Private@Example.net"
NAME = "Olena Hiddenko"


@pytest.fixture
def statement(coalition, coordinator):
    return make_statement(coalition, by=coordinator, status="open", allows_individuals=True,
                          title="Free the detained journalists", body="We call for their release.")


def sign(client, statement, *, email=EMAIL, name=NAME, confirm=True) -> Signature:
    client.post(reverse("statement_sign", args=[statement.slug]),
                {"name": name, "affiliation": "Kyiv Bar", "email": email, "website": ""})
    if confirm:
        message = OutboundEmail.objects.filter(kind="signature_confirmation", recipient=email).latest("id")
        link = re.search(r"https?://[^/\s]+(/\S+/sign/confirm/\S+/)", message.body_text).group(1)
        client.post(link, {"sha256": statement.signed_revision.sha256})
    return Signature.objects.get(statement=statement, email=email)


def ask_for_erasure(client, email=EMAIL):
    """Ask, and run what the request leaves to its task once it commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("privacy_erase"), {"email": email, "website": ""})


def erasure_link(email=EMAIL) -> str:
    message = OutboundEmail.objects.filter(kind="erasure_link", recipient=email).latest("id")
    return re.search(r"https?://[^/\s]+(/privacy/erase/\S+/)", message.body_text).group(1)


def without_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def everything_in_the_audit_log() -> str:
    return json.dumps(list(AuditEvent.objects.values()), default=str).lower()


def digest(email: str) -> str:
    """The keyed hash the log keeps: HMAC-SHA256 of the lowercased address with AUDIT_HASH_KEY."""
    return hmac.new(django_settings.AUDIT_HASH_KEY.encode(), email.lower().encode(), hashlib.sha256).hexdigest()


# The request: the same answer for every address ----------------------------------------------


def test_asking_answers_the_same_for_an_address_that_never_signed(client, statement):
    sign(client, statement)
    answers = [ask_for_erasure(client, email) for email in (EMAIL, "nobody@example.net")]
    assert [a.status_code for a in answers] == [302, 302] and answers[0].url == answers[1].url
    assert without_csrf(client.get(answers[0].url)) == without_csrf(client.get(answers[1].url))
    assert OutboundEmail.objects.filter(kind="erasure_link").count() == 1
    assert OutboundEmail.objects.get(kind="erasure_link").recipient == EMAIL


def test_asking_too_often_for_one_address_is_refused_for_an_hour(client, statement, settings):
    settings.SUBSCRIPTION_RATE_LIMITS = {"ip": "100/h", "email": "2/h"}
    answers = [ask_for_erasure(client, "Someone@Example.net").status_code for _ in range(3)]
    assert answers == [302, 302, 429]
    assert "try again in an hour" in ask_for_erasure(client, "someone@example.net").content.decode()
    assert ask_for_erasure(client, "other@example.net").status_code == 302


def test_a_bad_address_comes_back_with_a_message(client):
    response = client.post(reverse("privacy_erase"), {"email": "not an address", "website": ""})
    assert response.status_code == 400 and "not an address" in response.content.decode()
    assert not OutboundEmail.objects.filter(kind="erasure_link").exists()


def test_the_confirmation_email_and_page_lead_to_erasure(client, statement):
    sign(client, statement, confirm=False)
    message = OutboundEmail.objects.filter(kind="signature_confirmation").latest("id")
    assert f"{django_settings.SITE_URL}{reverse('privacy_erase')}" in message.body_text
    link = re.search(r"https?://[^/\s]+(/\S+/sign/confirm/\S+/)", message.body_text).group(1)
    confirmed = client.post(link, {"sha256": statement.signed_revision.sha256}).content.decode()
    assert reverse("privacy_erase") in confirmed


# The link: a GET shows, the button erases ------------------------------------------------------


def test_the_links_page_shows_a_button_and_a_get_changes_nothing(client, statement):
    signature = sign(client, statement)
    ask_for_erasure(client)
    events = AuditEvent.objects.count()
    page = client.get(erasure_link())
    html = page.content.decode()
    assert page.status_code == 200 and "Free the detained journalists" in html
    assert '<form method="post"' in html and ">Erase</button>" in html
    after = Signature.objects.get(pk=signature.pk)
    assert (after.email, after.name, after.erased_at, after.withdrawn_at) == (EMAIL, NAME, None, None)
    assert AuditEvent.objects.count() == events


def test_pressing_the_button_erases_a_signature_of_a_statement_not_yet_published(client, statement):
    signature = sign(client, statement)
    assert NAME in client.get(statement.get_absolute_url()).content.decode()
    sent = OutboundEmail.objects.filter(recipient=EMAIL, kind="signature_confirmation").get()
    OutboundEmail.objects.filter(pk=sent.pk).update(sent_at=timezone.now())
    ask_for_erasure(client)
    response = client.post(erasure_link())
    assert response.status_code == 200 and "Your signature is erased" in response.content.decode()
    erased = Signature.objects.get(pk=signature.pk)
    assert (erased.email, erased.name, erased.affiliation) == ("", "", "")
    assert erased.withdrawn_at is not None and erased.erased_at is not None
    assert erased.email_sha256 == digest(EMAIL)
    page = client.get(statement.get_absolute_url()).content.decode()
    assert NAME not in page and "Kyiv Bar" not in page
    assert not Signature.objects.filter(email__iexact=EMAIL).exists()
    assert not Signature.objects.filter(name=NAME).exists()
    # The sent message's row stays for the record, without address or text; nothing to the address remains.
    record = OutboundEmail.objects.get(pk=sent.pk)
    assert (record.recipient, record.body_text, record.body_html) == ("", "", "")
    assert not OutboundEmail.objects.filter(recipient__iexact=EMAIL).exists()
    assert not OutboundEmail.objects.filter(body_text__icontains=NAME).exists()


def test_erasure_cancels_messages_not_yet_sent(client, statement):
    signature = sign(client, statement, confirm=False)
    assert OutboundEmail.objects.filter(kind="signature_confirmation", sent_at__isnull=True).exists()
    ask_for_erasure(client)
    client.post(erasure_link())
    assert not OutboundEmail.objects.filter(dedupe_key__startswith=f"signature-confirmation:{signature.pk}:").exists()
    assert not OutboundEmail.objects.filter(recipient__iexact=EMAIL).exists()


def test_the_audit_log_keeps_a_hash_of_the_address_and_still_verifies(client, statement):
    signature = sign(client, statement)
    signed = audit.events_for(statement).get(action="signature.individual_signed")
    assert signed.data["email_hmac"] == digest(EMAIL) and "name" not in signed.data
    ask_for_erasure(client)
    client.post(erasure_link())
    erased = audit.events_for(statement).get(action="signature.erased")
    assert erased.data == {"signature": signature.pk, "email_hmac": digest(EMAIL), "published": False,
                           "reason": "request"}
    log = everything_in_the_audit_log()
    assert EMAIL.lower() not in log and NAME.lower() not in log
    assert audit.verify().intact


# Links that cannot erase -----------------------------------------------------------------------


def test_a_used_link_answers_410(client, statement):
    sign(client, statement)
    ask_for_erasure(client)
    link = erasure_link()
    client.post(link)
    for response in (client.get(link), client.post(link)):
        assert response.status_code == 410 and "erased already" in response.content.decode()


def test_an_expired_link_answers_410_and_erases_nothing(client, statement, monkeypatch):
    signature = sign(client, statement)
    old = signing.b62_encode(int(time.time()) - (django_settings.ERASURE_LINK_HOURS + 1) * 3600)
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: old)
    ask_for_erasure(client)
    monkeypatch.undo()
    response = client.post(erasure_link())
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert Signature.objects.get(pk=signature.pk).email == EMAIL


def test_a_forged_link_answers_404(client, statement):
    sign(client, statement)
    forged = signing.dumps({"s": [1, 2, 3]}, salt="something else")
    for url in (reverse("privacy_erase_confirm", args=[forged]), reverse("privacy_erase_confirm", args=["x"])):
        response = client.post(url)
        assert response.status_code == 404 and "not valid" in response.content.decode()
    assert Signature.objects.filter(email=EMAIL, erased_at__isnull=True).exists()


# A published statement -------------------------------------------------------------------------


def published_with_two_individuals(client, statement, coordinator):
    first, second = sign(client, statement), sign(client, statement, email="second@example.net", name="Taras Other")
    services.close_signing(statement, by=coordinator)
    services.publish(statement, by=coordinator)
    return first, second


def test_a_published_statement_keeps_the_name_and_loses_the_address(client, statement, coordinator):
    first, second = published_with_two_individuals(client, statement, coordinator)
    ask_for_erasure(client)
    page = client.get(erasure_link()).content.decode()
    assert "your name and affiliation are part of its signed PDF" in page
    response = client.post(erasure_link())
    assert response.status_code == 200 and "Your name and affiliation stay in its signed PDF" in response.content.decode()
    ask_for_erasure(client, "second@example.net")
    client.post(erasure_link("second@example.net"))  # two erased addresses on one statement: no clash
    for signature in (first, second):
        row = Signature.objects.get(pk=signature.pk)
        assert row.email == "" and row.erased_at is not None and row.withdrawn_at is None
        assert row.name == signature.name and row.email_sha256 == digest(signature.email)
    assert NAME in client.get(statement.get_absolute_url()).content.decode()
    assert NAME in json.dumps(Publication.objects.get(statement=statement).signatories)
    assert audit.events_for(statement).get(action="signature.erased", data__signature=first.pk).data["published"] is True
    assert audit.verify().intact


def test_a_published_signature_still_refuses_every_other_change(client, statement, coordinator):
    first, _ = published_with_two_individuals(client, statement, coordinator)
    row = Signature.objects.get(pk=first.pk)
    row.name = "Someone else"
    with pytest.raises(ValidationError):
        row.save(update_fields=["name"])
    row.name, row.email, row.erased_at = first.name, "", timezone.now()
    with pytest.raises(ValidationError):  # erasing the address cannot carry another change along
        row.save(update_fields=["email", "erased_at", "withdrawn_at"])


def test_postgresql_lets_only_the_erasure_through_the_trigger(client, statement, coordinator, postgres_database):
    first, _ = published_with_two_individuals(client, statement, coordinator)
    table = Signature._meta.db_table
    refused = [
        (f"UPDATE {table} SET name = 'Someone else' WHERE id = %s", [first.pk]),
        (f"UPDATE {table} SET email = '', erased_at = now(), token_hash = '', name = 'X' WHERE id = %s", [first.pk]),
        (f"UPDATE {table} SET email = 'new@example.net' WHERE id = %s", [first.pk]),
        (f"UPDATE {table} SET email_canonical = 'new@example.net' WHERE id = %s", [first.pk]),
        (f"DELETE FROM {table} WHERE id = %s", [first.pk]),
    ]
    for sql, params in refused:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    privacy.erase_signature(first, reason="request")
    row = Signature.objects.get(pk=first.pk)
    assert row.email == "" and row.name == first.name and row.erased_at is not None


# The address is never public -------------------------------------------------------------------


def test_an_individuals_address_appears_on_no_public_page_nor_in_the_pdf(
        client, statement, coordinator, coalition, member_org, django_capture_on_commit_callbacks):
    sign(client, statement)
    services.close_signing(statement, by=coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish(statement, by=coordinator)
    publication = Publication.objects.get(statement=statement)
    assert publication.is_public
    assert NAME in client.get(statement.get_absolute_url()).content.decode()  # the name is public
    pages = [reverse(name) for name in ("home", "statement_list", "feed", "api_statements", "sitemap")]
    pages += [statement.get_absolute_url(), reverse("api_statement", args=[statement.slug]),
              reverse("statement_signatories", args=[statement.slug]),
              reverse("api_statement_signatories", args=[statement.slug]),
              reverse("statement_sign", args=[statement.slug]), reverse("statement_list") + "?q=journalists"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert EMAIL.lower() not in response.content.decode().lower(), url
    pdf = client.get(reverse("statement_pdf", args=[statement.slug]))
    text = subprocess.run(["pdftotext", "-", "-"], input=b"".join(pdf.streaming_content),
                          capture_output=True, check=True).stdout.decode()
    assert NAME in text and EMAIL.lower() not in text.lower()
    csv_url = reverse("statement_signatures_csv", args=[statement.slug])
    assert client.get(csv_url).status_code == 403  # anonymous
    client.force_login(OrganisationRoleFactory(organisation=member_org, can_sign=True).user)
    refused = client.get(csv_url)
    assert refused.status_code == 403 and EMAIL.lower() not in refused.content.decode().lower()


# Signatures never confirmed --------------------------------------------------------------------


def test_signatures_never_confirmed_are_erased_after_their_link_expired(client, statement, settings):
    stale = sign(client, statement, confirm=False)
    recent = sign(client, statement, email="recent@example.net", confirm=False)
    Signature.objects.filter(pk=stale.pk).update(
        token_expires_at=timezone.now() - timedelta(days=settings.UNCONFIRMED_SIGNATURE_DAYS, minutes=1))
    assert tasks.purge_unconfirmed_signatures() == 1
    row = Signature.objects.get(pk=stale.pk)
    assert (row.email, row.name, row.erased_at is not None, row.withdrawn_at is not None) == ("", "", True, True)
    assert Signature.objects.get(pk=recent.pk).erased_at is None
    assert audit.events_for(statement).get(action="signature.erased").data["reason"] == "unconfirmed"
    assert tasks.purge_unconfirmed_signatures() == 0
    assert settings.CELERY_BEAT_SCHEDULE["purge-unconfirmed-signatures"]["task"] == \
        "statements.tasks.purge_unconfirmed_signatures"


def test_the_address_can_sign_again_after_erasure(client, statement):
    sign(client, statement)
    ask_for_erasure(client)
    client.post(erasure_link())
    again = sign(client, statement)
    assert again.erased_at is None and again.confirmed_at is not None


# The privacy page ------------------------------------------------------------------------------


@pytest.mark.parametrize("language, heading", [("en", "How we handle personal data"),
                                               ("uk", "Як ми поводимося з персональними даними")])
def test_the_privacy_page_says_what_is_kept_and_is_linked_from_every_page(client, language, heading, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(reverse("privacy"))
    html = page.content.decode()
    assert page.status_code == 200 and heading in html
    assert reverse("privacy_erase") in html and "statements@example.org" in html
    assert str(settings.SIGNATURE_CONFIRMATION_HOURS) in html and str(settings.UNCONFIRMED_SIGNATURE_DAYS) in html
    assert f'href="{reverse("privacy")}"' in client.get(reverse("home")).content.decode()


# Nothing to learn from the request's time, nor from the hashes -------------------------------


def test_asking_does_the_same_work_for_an_address_that_signed_and_one_that_did_not(client, statement):
    """The lookup and the email happen in a task after the request: the request's own queries are
    the same, one for one, whether or not the address signed; only the task then sends a link."""
    from django.test.utils import CaptureQueriesContext

    sign(client, statement)
    ask_for_erasure(client, "first-request@example.net")  # what the first request of all loads once
    seen = {}
    for email in (EMAIL, "nobody@example.net"):
        with TestCase.captureOnCommitCallbacks(execute=False) as callbacks, CaptureQueriesContext(connection) as queries:
            response = client.post(reverse("privacy_erase"), {"email": email, "website": ""})
        assert response.status_code == 302
        seen[email] = ([re.sub(r"'[^']*'", "?", q["sql"]) for q in queries], len(callbacks))
        for callback in callbacks:
            callback()
    assert seen[EMAIL] == seen["nobody@example.net"]
    assert not any("statements_signature" in sql for sql in seen[EMAIL][0])
    assert [m.recipient for m in OutboundEmail.objects.filter(kind="erasure_link")] == [EMAIL]


def test_the_request_takes_as_long_for_an_address_that_signed_as_for_one_that_did_not(client, statement, settings):
    """50 requests for each, interleaved: the medians agree within noise."""
    settings.SUBSCRIPTION_RATE_LIMITS = {"ip": "1000/h", "email": "1000/h"}
    for number in range(5):
        sign(client, statement, email=f"signed{number}@example.net", confirm=False)
    times = {True: [], False: []}
    for attempt in range(100):
        signed = attempt % 2 == 0
        email = f"{'signed' if signed else 'never'}{attempt % 5}@example.net"
        with TestCase.captureOnCommitCallbacks(execute=False):
            started = time.perf_counter()
            client.post(reverse("privacy_erase"), {"email": email, "website": ""})
            times[signed].append(time.perf_counter() - started)
    ratio = statistics.median(times[True]) / statistics.median(times[False])
    assert 0.7 < ratio < 1.4, ratio


def test_the_audit_log_holds_no_plain_hash_of_the_address_and_its_keyed_hash_needs_the_key(client, statement,
                                                                                          settings):
    sign(client, statement)
    ask_for_erasure(client)
    client.post(erasure_link())
    log = everything_in_the_audit_log()
    plain = hashlib.sha256(EMAIL.lower().encode()).hexdigest()
    assert plain not in log and digest(EMAIL) in log
    assert Signature.objects.get(statement=statement).email_sha256 == digest(EMAIL) != plain
    settings.AUDIT_HASH_KEY = "a guess at the key"
    assert privacy.email_hash(EMAIL) not in log  # without the site's key a guessed address confirms nothing
