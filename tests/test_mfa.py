"""Coordinators and admins must use two-factor authentication (TOTP with recovery codes)."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.urls import reverse

from statements.models import Statement

from . import factories
from .factories import confirmation, make_statement
from .helpers import sign_in_with_code

pytestmark = pytest.mark.django_db

ENROL = reverse("mfa_activate_totp")


@pytest.fixture
def unenrolled_coordinator(coalition):
    return factories.CoordinatorFactory(coalition=coalition, totp=False).user


def sign_in(client, user) -> None:
    """The password step of allauth's sign-in (a recent sign-in, as enrolment wants)."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": factories.PASSWORD})
    assert response.status_code == 302, response.content


def confirm_password(client) -> None:
    """allauth asks for the password again before authenticators are added or removed."""
    response = client.post(reverse("account_reauthenticate"), {"password": factories.PASSWORD})
    assert response.status_code == 302, response.content


def enrol_through_the_form(client) -> None:
    confirm_password(client)
    client.get(ENROL)
    code = factories.current_totp_code(client.session[SECRET_SESSION_KEY])
    response = client.post(ENROL, {"code": code})
    assert response.status_code == 302, response.content
    assert response.url == reverse("mfa_view_recovery_codes")


def test_coordinator_without_totp_is_sent_from_the_dashboard_to_enrolment_with_the_reason(client, unenrolled_coordinator):
    sign_in(client, unenrolled_coordinator)
    response = client.get(reverse("dashboard"), follow=True)
    assert response.redirect_chain[0][0] == ENROL
    assert "must protect their account with two-factor authentication" in response.content.decode()
    # Just signed in with the password: enrolment does not ask for it a second time.
    assert 'name="code"' in response.content.decode()


def test_coordinator_without_totp_cannot_open_a_statement_and_nothing_changes(client, coalition, unenrolled_coordinator):
    statement = make_statement(coalition, by=unenrolled_coordinator)
    sign_in(client, unenrolled_coordinator)
    response = client.post(reverse("statement_open", args=[statement.slug]), follow=True)
    assert response.redirect_chain[0][0] == ENROL
    assert "Nothing was saved" in response.content.decode()
    statement.refresh_from_db()
    assert statement.status == Statement.Status.DRAFT


def test_coordinator_enrols_gets_recovery_codes_and_can_then_act(client, coalition, unenrolled_coordinator):
    statement = make_statement(coalition, by=unenrolled_coordinator)
    sign_in(client, unenrolled_coordinator)
    enrol_through_the_form(client)
    kinds = set(Authenticator.objects.filter(user=unenrolled_coordinator).values_list("type", flat=True))
    assert kinds == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}
    recovery = client.get(reverse("mfa_view_recovery_codes"))
    assert recovery.status_code == 200
    assert len(recovery.context["unused_codes"]) == 10

    assert client.get(reverse("dashboard")).status_code == 200
    client.post(reverse("statement_open", args=[statement.slug]), confirmation(statement, "open"))
    statement.refresh_from_db()
    assert statement.status == Statement.Status.OPEN


def test_wrong_enrolment_code_is_refused_with_a_message(client, unenrolled_coordinator):
    sign_in(client, unenrolled_coordinator)
    confirm_password(client)
    client.get(ENROL)
    wrong = f"{(int(factories.current_totp_code(client.session[SECRET_SESSION_KEY])) + 1) % 1_000_000:06d}"
    response = client.post(ENROL, {"code": wrong})
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert not Authenticator.objects.filter(user=unenrolled_coordinator).exists()


@pytest.mark.parametrize("path", ["/accounts/2fa/", "/i18n/language/uk/", "/healthz"])
def test_an_unenrolled_coordinator_still_reaches_what_enrolment_needs(client, unenrolled_coordinator, path):
    sign_in(client, unenrolled_coordinator)
    response = client.get(path)
    assert response.status_code in (200, 302)
    assert getattr(response, "url", "") != ENROL


def test_an_unenrolled_coordinator_can_sign_out(client, unenrolled_coordinator):
    sign_in(client, unenrolled_coordinator)
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_admin_user_without_totp_is_sent_from_the_admin_to_enrolment(client, db, flag):
    user = factories.UserFactory(**{flag: True})
    sign_in(client, user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url == ENROL


def test_member_staff_are_not_asked_to_enrol(client, signer):
    sign_in(client, signer)
    assert client.get(reverse("dashboard")).status_code == 200


def test_coordinator_cannot_remove_their_last_authenticator(client, coordinator):
    sign_in_with_code(client, coordinator)
    confirm_password(client)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 200
    assert "must keep two-factor authentication on" in response.content.decode()
    assert Authenticator.objects.filter(user=coordinator, type=Authenticator.Type.TOTP).exists()


def test_member_staff_may_turn_two_factor_authentication_off(client, signer):
    factories.enrol_totp(signer)
    sign_in_with_code(client, signer)
    # Turning it off asks for the password again, even just after signing in.
    refused = client.post(reverse("mfa_deactivate_totp"))
    assert refused.status_code == 302 and refused.url.startswith(reverse("account_reauthenticate"))
    assert Authenticator.objects.filter(user=signer).exists()
    confirm_password(client)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=signer).exists()


def test_sign_in_of_an_enrolled_coordinator_asks_for_the_code_and_accepts_the_right_one(client, coordinator):
    response = sign_in_with_code(client, coordinator)
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert client.session["_auth_user_id"] == str(coordinator.pk)
    assert client.get(reverse("dashboard")).status_code == 200


def test_sign_in_refuses_a_wrong_code(client, coordinator):
    client.post(reverse("account_login"), {"login": coordinator.email, "password": factories.PASSWORD})
    wrong = f"{(int(factories.totp_code(coordinator)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_recovery_code_also_signs_in(client, coordinator):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    codes = RecoveryCodes(Authenticator.objects.get(user=coordinator, type=Authenticator.Type.RECOVERY_CODES))
    client.post(reverse("account_login"), {"login": coordinator.email, "password": factories.PASSWORD})
    response = client.post(reverse("mfa_authenticate"), {"code": codes.get_unused_codes()[0]})
    assert response.url == reverse("dashboard")


def test_the_admin_sign_in_asks_an_enrolled_admin_for_the_code(client, db):
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    factories.enrol_totp(admin)
    login = client.get("/admin/login/?next=/admin/")
    assert login.url.startswith(reverse("account_login"))
    response = client.post(login.url, {"login": admin.email, "password": factories.PASSWORD})
    assert response.url == reverse("mfa_authenticate")
    assert client.get("/admin/").status_code == 302  # not signed in until the code is given
    response = client.post(reverse("mfa_authenticate"), {"code": factories.totp_code(admin)})
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_reason_to_enrol_is_given_in_the_users_language(client, coalition):
    user = factories.CoordinatorFactory(coalition=coalition, totp=False, user__language="uk").user
    sign_in(client, user)
    response = client.get(reverse("dashboard"), follow=True)
    assert "мають захистити свій обліковий запис двофакторною автентифікацією" in response.content.decode()
