import pytest
from django.core import mail
from django.urls import reverse

from . import factories

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_wrong_password_shows_the_form_again_with_a_message(client, signer):
    response = client.post(reverse("account_login"), {"login": signer.email, "password": "wrong-password"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_and_sign_out(client, signer):
    response = client.post(reverse("account_login"), {"login": signer.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    client.post(reverse("account_logout"))
    assert client.get(reverse("dashboard")).status_code == 302


def test_sign_in_refused_until_the_email_is_verified(client, db, django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    user.emailaddress_set.update(verified=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_login"), {"login": user.email, "password": factories.PASSWORD})
    assert response.status_code == 302 and "confirm-email" in response.url
    assert "_auth_user_id" not in client.session
    assert any(user.email in m.to for m in mail.outbox)


def test_password_reset_sends_an_email_through_the_outbox(client, signer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": signer.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [signer.email]
    from coalition.models import OutboundEmail

    assert OutboundEmail.objects.get(recipient=signer.email).sent_at is not None


def test_password_reset_answers_the_same_for_an_unknown_address(client, signer):
    known = client.post(reverse("account_reset_password"), {"email": signer.email})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody-here@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url


def test_malformed_email_on_password_reset_is_a_form_error(client, db):
    response = client.post(reverse("account_reset_password"), {"email": "not an email"})
    assert response.status_code == 200
    assert "valid email" in response.content.decode()


def test_user_email_is_the_login_and_is_case_insensitive(client, signer):
    response = client.post(reverse("account_login"), {"login": signer.email.upper(), "password": factories.PASSWORD})
    assert response.status_code == 302


def test_the_admin_signs_in_through_the_sites_own_sign_in(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_a_signed_in_person_without_admin_access_is_refused_the_admin_login(client, signer):
    client.force_login(signer)
    assert client.get("/admin/login/").status_code == 403
