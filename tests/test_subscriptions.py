"""Public subscription to new publications: the form, double opt-in, the same answer for every
address, the honeypot and rate limits, one-click unsubscribe, and the publication email."""

import re
from functools import partial

import pytest
from django.db import IntegrityError, transaction
from django.test import TestCase
from django.urls import reverse

from coalition import outbox
from coalition.models import EmailOptOut, OutboundEmail
from coalition.unsubscribe import unsubscribe_url

from statements import notifications
from statements.models import Publication, Subscriber
from statements.services import publishing

from .factories import make_statement

pytestmark = pytest.mark.django_db

# Runs what the block queues after commit (the fan-out that writes the messages, then delivery).
committed = partial(TestCase.captureOnCommitCallbacks, execute=True)


def subscribe(client, email="reader@example.net", **extra):
    return client.post(reverse("subscribe"), {"email": email, **extra})


def confirmation_link(email="reader@example.net") -> str:
    row = OutboundEmail.objects.filter(kind="subscription_confirmation", recipient=email).latest("id")
    return re.search(r"https?://\S+/subscribe/confirm/\S+/", row.body_text).group(0)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def subscribe_and_confirm(client, email="reader@example.net"):
    subscribe(client, email)
    return client.post(path_of(confirmation_link(email)))


# The form and double opt-in --------------------------------------------------------------------


def test_the_form_is_linked_from_the_archive_and_footer_and_is_not_cached(client):
    archive = client.get(reverse("statement_list")).content.decode()
    assert archive.count(reverse("subscribe")) >= 2
    page = client.get(reverse("subscribe"))
    assert page.status_code == 200 and "no-cache" in page["Cache-Control"]
    assert 'name="email"' in page.content.decode() and 'for="id_email"' in page.content.decode()


def test_subscribing_sends_a_confirmation_link_and_only_its_button_confirms(client):
    response = subscribe(client, "Reader@Example.net")
    assert response.status_code == 302 and response.url == reverse("subscription_sent")
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "reader@example.net" and subscriber.confirmed_at is None
    email = OutboundEmail.objects.get(kind="subscription_confirmation")
    assert email.recipient == "reader@example.net" and "Confirm your subscription" in email.subject
    assert "List-Unsubscribe" not in email.headers and "<a href" in email.body_html

    link = path_of(confirmation_link())
    page = client.get(link)
    assert page.status_code == 200 and "Confirm my subscription" in page.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is None  # a GET (a mail scanner) never confirms
    page = client.post(link)
    assert page.status_code == 200 and "You are subscribed" in page.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is not None


def test_the_confirmation_email_is_in_the_language_of_the_page(client):
    client.post(reverse("subscribe"), {"email": "u@example.net"}, HTTP_ACCEPT_LANGUAGE="uk")
    subscriber = Subscriber.objects.get()
    email = OutboundEmail.objects.get(kind="subscription_confirmation")
    assert subscriber.language == email.language == "uk"
    assert "Підтвердьте" in email.subject


def test_an_already_subscribed_address_gets_the_same_answer_and_no_email(client):
    subscribe_and_confirm(client)
    before = OutboundEmail.objects.count()
    response = subscribe(client, "READER@example.net")
    assert response.status_code == 302 and response.url == reverse("subscription_sent")
    assert OutboundEmail.objects.count() == before and Subscriber.objects.count() == 1


def test_an_address_waiting_for_confirmation_gets_a_fresh_link_and_keeps_one_row(client):
    subscribe(client)
    subscribe(client)
    assert Subscriber.objects.count() == 1
    assert OutboundEmail.objects.filter(kind="subscription_confirmation").count() == 2


def test_one_live_subscriber_per_address_is_held_by_the_database():
    Subscriber.objects.create(email="a@example.net")
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscriber.objects.create(email="A@EXAMPLE.NET")


@pytest.mark.parametrize("email", ["", "not-an-address", "a@" + "b" * 300 + ".net"])
def test_a_bad_address_gets_the_form_again_with_a_message_and_a_400(client, email):
    response = subscribe(client, email)
    assert response.status_code == 400 and "errorlist" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_the_honeypot_answers_as_usual_and_creates_nothing(client):
    response = subscribe(client, website="http://spam.example")
    assert response.status_code == 302 and response.url == reverse("subscription_sent")
    assert not Subscriber.objects.exists() and not OutboundEmail.objects.exists()


def test_too_many_requests_for_one_address_are_refused_with_429(client, settings):
    settings.SUBSCRIPTION_RATE_LIMITS = {"ip": "100/h", "email": "2/h"}
    assert subscribe(client).status_code == 302
    assert subscribe(client).status_code == 302
    response = subscribe(client)
    assert response.status_code == 429 and "Too many requests" in response.content.decode()


def test_too_many_requests_from_one_ip_are_refused(client, settings):
    settings.SUBSCRIPTION_RATE_LIMITS = {"ip": "2/h", "email": "100/h"}
    subscribe(client, "a@example.net")
    subscribe(client, "b@example.net")
    assert subscribe(client, "c@example.net").status_code == 429
    assert Subscriber.objects.count() == 2


def test_a_forged_link_is_a_400_and_an_expired_one_a_410(client, settings):
    assert client.get(reverse("subscription_confirm", args=["forged"])).status_code == 400
    assert client.post(reverse("subscription_confirm", args=["forged"])).status_code == 400
    subscribe(client)
    link = path_of(confirmation_link())
    settings.SUBSCRIPTION_CONFIRMATION_HOURS = -1
    response = client.post(link)
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert Subscriber.objects.get().confirmed_at is None


# Unsubscribing ---------------------------------------------------------------------------------


@pytest.fixture
def publication(coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, status="closed", title="Stop the deportations")
    return Publication.objects.create(statement=statement, number=1, revision=statement.signed_revision,
                                      created_by=coordinator, state=Publication.State.READY)


def test_a_confirmed_subscriber_gets_the_publication_once_with_one_click_unsubscribe(client, publication):
    subscribe_and_confirm(client)
    with committed():
        publishing.release(publication)
        notifications.publication_released(publication)  # told again: nothing is written twice
    email = OutboundEmail.objects.get(kind="statement_published", recipient="reader@example.net")
    assert "Stop the deportations" in email.subject
    assert f"/statements/{publication.statement.slug}/pdf/?issue=1" in email.body_text
    assert "which you signed" not in email.body_text
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in email.headers["List-Unsubscribe"] and email.body_text.count("/unsubscribe/") == 1


def test_subscribers_are_told_in_their_language_and_unconfirmed_ones_not_at_all(client, publication):
    Subscriber.objects.create(email="uk@example.net", language="uk", confirmed_at=publication.created_at)
    subscribe(client, "waiting@example.net")
    with committed():
        publishing.release(publication)
    recipients = {e.recipient: e for e in OutboundEmail.objects.filter(kind="statement_published")}
    assert set(recipients) == {"uk@example.net"}  # nobody signed this one
    assert recipients["uk@example.net"].language == "uk" and "Опубліковано" in recipients["uk@example.net"].subject


def test_publication_emails_to_subscribers_are_queued_in_batches(client, publication, settings, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    settings.OUTBOX_BATCH_SIZE = 2
    for n in range(5):
        Subscriber.objects.create(email=f"r{n}@example.net", confirmed_at=publication.created_at)
    batches = []
    monkeypatch.setattr(outbox, "_publish", lambda task, ids: batches.append((task.name, ids)) or True)
    with django_capture_on_commit_callbacks(execute=True):
        publishing.release(publication)
    assert [len(ids) for _name, ids in batches] == [2, 2, 1]
    assert {name for name, _ids in batches} == {"coalition.tasks.deliver_batch"}


def test_one_click_unsubscribe_ends_the_subscription_and_no_more_publications_come(client, publication):
    subscribe_and_confirm(client)
    assert client.post(path_of(unsubscribe_url("reader@example.net", "statement_published"))).status_code == 200
    assert Subscriber.objects.get().unsubscribed_at is not None
    with committed():
        publishing.release(publication)
    assert not OutboundEmail.objects.filter(kind="statement_published", recipient="reader@example.net").exists()


def test_subscribing_again_after_unsubscribing_starts_a_new_subscription(client, publication):
    subscribe_and_confirm(client)
    EmailOptOut.objects.create(email="reader@example.net", kind="statement_published")
    subscribe_and_confirm(client)
    assert Subscriber.objects.filter(unsubscribed_at__isnull=True, confirmed_at__isnull=False).count() == 1
    assert Subscriber.objects.count() == 2
    assert not EmailOptOut.objects.filter(email="reader@example.net").exists()
    with committed():
        publishing.release(publication)
    assert OutboundEmail.objects.filter(kind="statement_published", recipient="reader@example.net").count() == 1


def test_a_link_of_an_ended_subscription_no_longer_confirms(client):
    subscribe(client)
    link = path_of(confirmation_link())
    EmailOptOut.objects.create(email="reader@example.net", kind="statement_published")
    assert client.post(link).status_code == 400
