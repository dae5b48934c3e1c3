"""Which email a person gets: one-click unsubscribe (RFC 8058), its confirmation page, and the
signed-in notification preferences page."""

import re

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from coalition import unsubscribe
from coalition.models import EmailOptOut

pytestmark = pytest.mark.django_db

PUBLISHED = EmailOptOut.Kind.STATEMENT_PUBLISHED


def link(email: str = "reader@example.org", kind: str = PUBLISHED) -> str:
    return reverse("unsubscribe", args=[unsubscribe.make_token(email, kind)])


def test_a_one_click_post_without_a_csrf_token_unsubscribes():
    client = Client(enforce_csrf_checks=True)
    response = client.post(link("Reader@Example.org"), data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert EmailOptOut.objects.filter(email="reader@example.org", kind=PUBLISHED).exists()
    assert unsubscribe.is_opted_out("READER@example.org", PUBLISHED)
    assert not unsubscribe.is_opted_out("reader@example.org", EmailOptOut.Kind.STATEMENT_OPENED)


def test_unsubscribing_twice_is_harmless():
    client = Client(enforce_csrf_checks=True)
    assert client.post(link()).status_code == 200
    assert client.post(link()).status_code == 200
    assert EmailOptOut.objects.count() == 1


def test_following_the_link_only_asks_and_changes_nothing(client):
    response = client.get(link())
    assert response.status_code == 200
    page = response.content.decode()
    assert "reader@example.org" in page and 'method="post"' in page and "Unsubscribe</button>" in page
    assert not EmailOptOut.objects.exists()


def test_the_button_on_the_confirmation_page_unsubscribes(client):
    response = client.post(link())
    assert "You are unsubscribed" in response.content.decode()
    assert EmailOptOut.objects.filter(email="reader@example.org").exists()


@pytest.mark.parametrize("token", [
    "not-a-token",
    unsubscribe.make_token("reader@example.org", PUBLISHED)[:-3] + "abc",  # tampered signature
    signing.dumps({"a": "reader@example.org", "k": PUBLISHED}, salt="another.purpose", compress=True),
    signing.dumps({"a": "reader@example.org", "k": "invitation"}, salt=unsubscribe.SALT, compress=True),
])
def test_a_bad_token_is_a_400_and_changes_nothing(client, token):
    url = reverse("unsubscribe", args=[token])
    assert client.get(url).status_code == 400
    assert Client(enforce_csrf_checks=True).post(url).status_code == 400
    assert not EmailOptOut.objects.exists()


def test_the_token_names_an_address_and_a_kind_so_it_serves_people_without_accounts():
    token = unsubscribe.make_token("Subscriber@Example.org", PUBLISHED)
    assert unsubscribe.read_token(token) == ("subscriber@example.org", PUBLISHED)


def test_other_views_still_require_a_csrf_token(signer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(signer)
    assert client.post(reverse("notification_preferences"), {"receive": []}).status_code == 403


# The preferences page -----------------------------------------------------------------------


def test_the_preferences_page_needs_a_signed_in_person(client):
    response = client.get(reverse("notification_preferences"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_everything_is_on_until_someone_turns_it_off(client, signer):
    client.force_login(signer)
    response = client.get(reverse("notification_preferences"))
    assert response.status_code == 200
    assert set(response.context["form"].initial["receive"]) == set(EmailOptOut.Kind.values)


def test_turning_kinds_off_and_on_again(client, signer):
    client.force_login(signer)
    keep = [EmailOptOut.Kind.STATEMENT_OPENED, EmailOptOut.Kind.SIGNATURE_REMINDER]
    response = client.post(reverse("notification_preferences"), {"receive": keep}, follow=True)
    assert "Your email preferences are saved." in response.content.decode()
    assert unsubscribe.opted_out_kinds(signer.email) == set(EmailOptOut.Kind.values) - set(keep)
    client.post(reverse("notification_preferences"), {"receive": EmailOptOut.Kind.values})
    assert unsubscribe.opted_out_kinds(signer.email) == set()


def test_the_page_shows_an_unsubscribe_made_by_link(client, signer):
    Client(enforce_csrf_checks=True).post(link(signer.email, PUBLISHED))
    client.force_login(signer)
    response = client.get(reverse("notification_preferences"))
    assert PUBLISHED not in response.context["form"].initial["receive"]


def test_an_unknown_kind_is_refused_with_the_form_shown_again(client, signer):
    client.force_login(signer)
    response = client.post(reverse("notification_preferences"), {"receive": ["lottery"]})
    assert response.status_code == 400 and response.context["form"].errors
    assert not EmailOptOut.objects.exists()


def test_the_account_pages_link_to_the_preferences(client, signer):
    client.force_login(signer)
    page = client.get(reverse("account_change_password")).content.decode()
    assert reverse("notification_preferences") in page


def _waiting(kind: str, recipient: str, key: str, **fields):
    from coalition import outbox

    return outbox.enqueue_rendered(kind=kind, dedupe_key=key, recipient=recipient, subject="Subject",
                                   text="Text", **fields)


def test_opting_out_drops_the_messages_of_that_kind_still_waiting_to_go_to_the_address(client, signer):
    from datetime import timedelta

    from django.utils import timezone

    from coalition.models import OutboundEmail

    later = timezone.now() + timedelta(days=1)
    reminder = _waiting(EmailOptOut.Kind.SIGNATURE_REMINDER, signer.email.upper(), "r1", due_at=later)
    sent = _waiting(EmailOptOut.Kind.SIGNATURE_REMINDER, signer.email, "r0", due_at=later)
    OutboundEmail.objects.filter(pk=sent.pk).update(sent_at=timezone.now())
    other_kind = _waiting(EmailOptOut.Kind.STATEMENT_PUBLISHED, signer.email, "p1", due_at=later)
    other_person = _waiting(EmailOptOut.Kind.SIGNATURE_REMINDER, "someone@example.org", "r2", due_at=later)

    client.force_login(signer)
    kinds = set(EmailOptOut.Kind.values) - {EmailOptOut.Kind.SIGNATURE_REMINDER}
    client.post(reverse("notification_preferences"), {"receive": sorted(kinds)})

    assert not OutboundEmail.objects.filter(pk=reminder.pk).exists()
    assert set(OutboundEmail.objects.values_list("pk", flat=True)) == {sent.pk, other_kind.pk, other_person.pk}


def test_the_one_click_link_drops_waiting_messages_too():
    from datetime import timedelta

    from django.utils import timezone

    from coalition.models import OutboundEmail

    waiting = _waiting(PUBLISHED, "reader@example.org", "p2", due_at=timezone.now() + timedelta(hours=1))
    Client(enforce_csrf_checks=True).post(link("Reader@Example.org"))
    assert not OutboundEmail.objects.filter(pk=waiting.pk).exists()


def test_what_someone_turned_off_stays_off_when_they_make_another_address_primary(client, signer):
    from allauth.account.models import EmailAddress

    client.force_login(signer)
    kinds = set(EmailOptOut.Kind.values) - {EmailOptOut.Kind.SIGNATURE_REMINDER}
    client.post(reverse("notification_preferences"), {"receive": sorted(kinds)})
    EmailAddress.objects.create(user=signer, email="new.address@example.org", verified=True, primary=False)

    response = client.post(reverse("account_email"), {"action_primary": "", "email": "new.address@example.org"})
    assert response.status_code == 302
    signer.refresh_from_db()
    assert signer.email == "new.address@example.org"
    assert unsubscribe.is_opted_out("new.address@example.org", EmailOptOut.Kind.SIGNATURE_REMINDER)
    assert not unsubscribe.is_opted_out("new.address@example.org", EmailOptOut.Kind.STATEMENT_PUBLISHED)
    page = client.get(reverse("notification_preferences")).content.decode()
    boxes = {re.search(r'value="([a-z_]+)"', tag).group(1): "checked" in tag
             for tag in re.findall(r'<input[^>]*name="receive"[^>]*>', page)}
    assert boxes[EmailOptOut.Kind.SIGNATURE_REMINDER] is False
    assert boxes[EmailOptOut.Kind.STATEMENT_PUBLISHED] is True
