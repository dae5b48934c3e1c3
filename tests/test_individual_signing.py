"""Signing as an individual: the emailed confirmation link (a GET never confirms), links used
twice or expired, the same address signing again, the honeypot, rate limits, hiding, and a text
changed while open."""

import re
from datetime import timedelta

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from coalition import audit
from coalition.models import EmailOptOut, OutboundEmail

from statements import services
from statements.models import Signature, Statement
from statements.services import cosigning
from statements.services import Draft

from .factories import make_statement
from .helpers import confirmation_link, path_of, person, sign_and_get_link, sign_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(coalition, coordinator):
    return make_statement(coalition, by=coordinator, status="open", allows_individuals=True,
                          title="Stop the deportation of children", body="We call on every state to act.")


def without_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_anyone_may_read_and_sign_a_statement_open_to_individuals(client, statement):
    page = client.get(sign_url(statement)).content.decode()
    assert "Sign as an individual" in page and "We call on every state to act." in page
    response = client.post(sign_url(statement), person())
    assert response.status_code == 302 and response.url == reverse("signature_sent", args=[statement.slug])
    assert "Check your email" in client.get(response.url).content.decode()
    signature = Signature.objects.get()
    assert signature.kind == "individual" and signature.email == "Iryna.Koval@Example.org"
    assert signature.confirmed_at is None and signature.revision == statement.signed_revision
    assert audit.events_for(statement).filter(action="signature.individual_signed").exists()


def test_the_signature_counts_only_after_the_link_is_followed_and_the_button_pressed(client, statement):
    link = sign_and_get_link(client, statement)
    assert "Iryna Koval" not in client.get(statement.get_absolute_url()).content.decode()
    page = client.get(link)
    assert page.status_code == 200 and "Confirm my signature" in page.content.decode()
    assert Signature.objects.get().confirmed_at is None  # a GET (a mail scanner) confirms nothing
    response = client.post(link, {"sha256": statement.signed_revision.sha256})
    assert response.status_code == 200 and "Your signature is confirmed" in response.content.decode()
    assert Signature.objects.get().confirmed_at is not None
    public = client.get(statement.get_absolute_url()).content.decode()
    assert "Iryna Koval" in public and "Lawyer" in public and "1 individual" in public
    assert "iryna.koval@example.org" not in public.lower()
    assert audit.events_for(statement).filter(action="signature.confirmed").exists()


def test_the_confirmation_email_is_in_the_signers_language_with_title_and_link(client, statement):
    client.post(reverse("set_language"), {"language": "uk", "next": "/"})
    client.post(sign_url(statement), person())
    email = OutboundEmail.objects.get(kind="signature_confirmation")
    assert email.recipient == "Iryna.Koval@Example.org" and email.language == "uk"
    assert "Stop the deportation of children" in email.subject and "Підтвердьте" in email.subject
    assert "/sign/confirm/" in email.body_text


def test_the_token_is_stored_only_hashed(client, statement):
    link = sign_and_get_link(client, statement)
    token = link.rstrip("/").rsplit("/", 1)[1]
    signature = Signature.objects.get()
    assert token not in signature.token_hash and signature.token_hash == cosigning.token_digest(token)


def test_a_link_used_twice_says_the_signature_is_already_confirmed(client, statement):
    link = sign_and_get_link(client, statement)
    client.post(link, {"sha256": statement.signed_revision.sha256})
    again = client.post(link, {"sha256": statement.signed_revision.sha256})
    assert again.status_code == 410
    assert "Your signature is already confirmed: this link has been used." in again.content.decode()
    assert "already confirmed" in client.get(link).content.decode()
    assert audit.events_for(statement).filter(action="signature.confirmed").count() == 1


def test_an_expired_link_says_so_and_confirms_nothing(client, statement):
    link = sign_and_get_link(client, statement)
    Signature.objects.update(token_expires_at=timezone.now() - timedelta(seconds=1))
    page = client.get(link)
    assert page.status_code == 410 and "This confirmation link has expired." in page.content.decode()
    response = client.post(link, {"sha256": statement.signed_revision.sha256})
    assert response.status_code == 410 and Signature.objects.get().confirmed_at is None


def test_an_unknown_link_is_not_found_with_a_clear_message(client, statement):
    page = client.get(reverse("signature_confirm", args=[statement.slug, "not-a-real-token"]))
    assert page.status_code == 404 and "This confirmation link is not valid." in page.content.decode()


def test_a_link_followed_after_signing_closed_confirms_nothing(client, statement, coordinator):
    link = sign_and_get_link(client, statement)
    services.close_signing(statement, by=coordinator)
    response = client.post(link, {"sha256": statement.signed_revision.sha256})
    assert response.status_code == 410 and "Signing of this statement is closed." in response.content.decode()
    assert Signature.objects.get().confirmed_at is None


def test_signing_again_with_a_confirmed_address_answers_the_same_and_tells_its_owner(client, statement):
    link = sign_and_get_link(client, statement)
    client.post(link, {"sha256": statement.signed_revision.sha256})
    first = client.post(sign_url(statement), person(email="someone.else@example.org"))
    again = client.post(sign_url(statement), person(name="Somebody Else", email="IRYNA.koval@example.org"))
    assert (again.status_code, again.url) == (first.status_code, first.url)
    assert without_csrf(client.get(again.url)) == without_csrf(client.get(first.url))
    assert Signature.objects.filter(email__iexact="iryna.koval@example.org").count() == 1
    assert Signature.objects.get(email__iexact="iryna.koval@example.org").name == "Iryna Koval"
    notice = OutboundEmail.objects.get(kind="signature_already_signed")
    assert notice.recipient == "Iryna.Koval@Example.org"
    assert "already" in notice.subject and "Stop the deportation of children" in notice.subject


def test_signing_again_before_confirming_sends_a_fresh_link_and_creates_nothing(client, statement):
    old_link = sign_and_get_link(client, statement)
    new_link = sign_and_get_link(client, statement)
    assert new_link != old_link and Signature.objects.count() == 1
    assert client.get(old_link).status_code == 404
    client.post(new_link, {"sha256": statement.signed_revision.sha256})
    assert Signature.objects.get().confirmed_at is not None


def test_the_database_holds_one_live_signature_per_address_whatever_its_case(statement):
    from django.db import IntegrityError, transaction

    revision = statement.signed_revision
    Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256, kind="individual",
                             name="A", email="a@example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256,
                                 kind="individual", name="A", email="A@EXAMPLE.ORG")


def test_the_honeypot_answers_as_a_signature_and_creates_nothing(client, statement):
    response = client.post(sign_url(statement), person(website="http://spam.example"))
    assert response.status_code == 302 and response.url == reverse("signature_sent", args=[statement.slug])
    assert not Signature.objects.exists() and not OutboundEmail.objects.exclude(kind="statement_opened").exists()


def test_the_honeypot_field_is_hidden_from_people(client, statement):
    page = client.get(sign_url(statement)).content.decode()
    assert re.search(r'<div class="trap" aria-hidden="true">.*name="website"[^>]*tabindex="-1"', page, re.S)


def test_bad_input_gives_the_form_again_with_what_was_typed(client, statement):
    response = client.post(sign_url(statement), person(email="not-an-address", name="Оксана"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid email address." in page and 'value="Оксана"' in page
    assert not Signature.objects.exists()


@pytest.fixture
def own_cache(settings):
    """Counters in a cache of the test's own: a shared Redis cache may be cleared by other runs."""
    from django.core.cache import cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "rate-limit-tests"}}
    cache.clear()


def test_too_many_signatures_for_one_address_are_refused_with_the_form_kept(client, statement, settings, own_cache):
    settings.SIGNING_RATE_LIMITS = {"ip": "100/h", "email": "2/h"}
    for _ in range(2):
        assert client.post(sign_url(statement), person()).status_code == 302
    response = client.post(sign_url(statement), person())
    assert response.status_code == 429
    assert "Too many signatures" in response.content.decode() and 'value="Iryna Koval"' in response.content.decode()
    assert OutboundEmail.objects.exclude(kind="statement_opened").count() == 2


def test_too_many_signatures_from_one_ip_are_refused(client, statement, settings, own_cache):
    settings.SIGNING_RATE_LIMITS = {"ip": "3/h", "email": "5/h"}
    codes = [client.post(sign_url(statement), person(email=f"p{i}@example.org")).status_code for i in range(4)]
    assert codes == [302, 302, 302, 429]
    other_ip = client.post(sign_url(statement), person(email="p9@example.org"), REMOTE_ADDR="192.0.2.7")
    assert other_ip.status_code == 302 and Signature.objects.count() == 4


def test_a_setting_lifts_the_rate_limits(client, statement, settings):
    settings.SIGNING_RATE_LIMITS = {"ip": "1/h", "email": "1/h"}
    settings.SIGNING_RATE_LIMITS_ENABLED = False
    codes = {client.post(sign_url(statement), person(email=f"q{i}@example.org")).status_code for i in range(3)}
    assert codes == {302}


def test_a_statement_for_organisations_only_refuses_individuals(client, coalition, coordinator, staff):
    statement = make_statement(coalition, by=coordinator, status="open")
    client.force_login(staff)
    assert "Sign as an individual" not in client.get(sign_url(statement)).content.decode()
    response = client.post(sign_url(statement), person())
    assert response.status_code == 400 and "Only organisations sign this statement." in response.content.decode()
    assert not Signature.objects.exists()


def test_a_closed_or_past_deadline_statement_refuses_individuals(client, statement, coordinator, staff):
    Statement.objects.filter(pk=statement.pk).update(deadline=timezone.now() - timedelta(hours=1))
    response = client.post(sign_url(statement), person())
    assert response.status_code == 400 and "The signing deadline passed on" in response.content.decode()
    services.close_signing(statement, by=coordinator)
    client.force_login(staff)  # closed statements are for members only
    response = client.post(sign_url(statement), person())
    assert response.status_code == 400 and "Signing of this statement is closed." in response.content.decode()
    assert not Signature.objects.exists()


def test_a_coordinator_hides_an_abusive_signature_on_the_record(client, statement, coordinator, staff):
    link = sign_and_get_link(client, statement, name="Abusive Name")
    client.post(link, {"sha256": statement.signed_revision.sha256})
    signature = Signature.objects.get()
    client.force_login(staff)
    assert client.post(reverse("signature_hide", args=[statement.slug, signature.pk]),
                       {"reason": "Abuse"}).status_code == 403
    client.force_login(coordinator)
    roster = client.get(reverse("statement_roster", args=[statement.slug])).content.decode()
    assert "Abusive Name" in roster and "iryna.koval@example.org" in roster.lower()
    client.post(reverse("signature_hide", args=[statement.slug, signature.pk]), {"reason": "Insulting name"})
    signature.refresh_from_db()
    assert signature.hidden_at is not None and signature.hidden_by == coordinator
    assert signature.hidden_reason == "Insulting name"
    client.logout()
    assert "Abusive Name" not in client.get(statement.get_absolute_url()).content.decode()
    assert audit.events_for(statement).get(action="signature.hidden").data["reason"] == "Insulting name"


def test_a_text_changed_while_open_sends_confirmed_individuals_a_new_link_that_binds_the_new_text(
        client, statement, coordinator):
    link = sign_and_get_link(client, statement)
    client.post(link, {"sha256": statement.signed_revision.sha256})
    with TestCase.captureOnCommitCallbacks(execute=True):  # the fan-out that writes the message
        new = services.save_revision(statement, by=coordinator, based_on=statement.signed_revision,
                                     draft=Draft("Stop the deportation of children", "", "A stronger call."))
    email = OutboundEmail.objects.get(kind=EmailOptOut.Kind.TEXT_CHANGED)
    assert email.recipient == "Iryna.Koval@Example.org" and "Stop the deportation of children" in email.subject
    # Until confirmed, the public list leaves the signature out (it is on an earlier text).
    assert "Iryna Koval" not in client.get(statement.get_absolute_url()).content.decode()
    new_link = path_of(confirmation_link(email))
    assert "text you signed has been changed" in client.get(new_link).content.decode()
    client.post(new_link, {"sha256": new.sha256})
    signature = Signature.objects.get()
    assert signature.revision == new and signature.sha256 == new.sha256 and signature.rebound_at is not None
    assert audit.events_for(statement).filter(action="signature.text_confirmed").exists()
    assert "Iryna Koval" in client.get(statement.get_absolute_url()).content.decode()


def test_confirming_from_a_page_showing_an_older_text_is_refused(client, statement, coordinator):
    link = sign_and_get_link(client, statement)
    old = statement.signed_revision
    services.save_revision(statement, by=coordinator, based_on=old,
                           draft=Draft("Stop the deportation of children", "", "Changed while reading."))
    response = client.post(link, {"sha256": old.sha256})
    assert response.status_code == 409 and "The text changed while you were reading it." in response.content.decode()
    assert Signature.objects.get().confirmed_at is None


def test_an_unconfirmed_signature_leaves_cached_public_pages_alone_and_its_confirmation_renews_them(client, statement):
    from statements import caching

    before = caching.statement_versions(statement.pk)
    link = sign_and_get_link(client, statement)
    assert caching.statement_versions(statement.pk) == before
    client.post(link, {"sha256": statement.signed_revision.sha256})
    after = caching.statement_versions(statement.pk)
    assert after[caching.signatures_key(statement.pk)] > before[caching.signatures_key(statement.pk)]


def test_signatures_of_a_published_statement_cannot_be_hidden(client, statement, coordinator):
    link = sign_and_get_link(client, statement)
    client.post(link, {"sha256": statement.signed_revision.sha256})
    services.close_signing(statement, by=coordinator)
    services.publish(statement, by=coordinator)
    signature = Signature.objects.get()
    client.force_login(coordinator)
    assert 'name="reason"' not in client.get(reverse("statement_roster", args=[statement.slug])).content.decode()
    response = client.post(reverse("signature_hide", args=[statement.slug, signature.pk]), {"reason": "Late"}, follow=True)
    assert "never change" in response.content.decode()
    signature.refresh_from_db()
    assert signature.hidden_at is None
