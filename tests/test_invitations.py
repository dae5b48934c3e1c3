from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from coalition.models import AuditEvent, CoalitionRole, Invitation, OrganisationRole, OutboundEmail, User

from . import factories

pytestmark = pytest.mark.django_db


def invite_via_page(client, coalition, organisation, email="new.person@example.org", role="signer"):
    return client.post(
        reverse("invitations", args=[coalition.slug]),
        {"email": email, "role": role, "organisation": organisation.pk, "language": "en"},
    )


def test_coordinator_invitation_is_emailed_and_accepting_it_signs_the_person_in_with_the_role(
    client, coalition, member_org, coordinator, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite_via_page(client, coalition, member_org, email="New.Person@Example.org")
    assert response.status_code == 302

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.org"]
    assert coalition.name in message.subject
    invitation = Invitation.objects.get()
    token = factories.emailed_invitation_token("new.person@example.org")
    assert token not in invitation.token_hash  # only the token's hash is stored
    accept_url = reverse("invitation_accept", args=[token])
    assert accept_url in message.body
    assert OutboundEmail.objects.get().sent_at is not None

    client.logout()
    page = client.get(accept_url)
    assert page.status_code == 200
    assert "new.person@example.org" in page.content.decode()
    response = client.post(accept_url, {"name": "Nadia Petrenko", "password1": "river-candle-77", "password2": "river-candle-77"})
    assert response.status_code == 302 and response.url == reverse("dashboard")

    user = User.objects.get(email="new.person@example.org")
    assert user.name == "Nadia Petrenko"
    assert OrganisationRole.objects.get(user=user, organisation=member_org).can_sign is True
    assert EmailAddress.objects.get(user=user).verified is True
    dashboard = client.get(reverse("dashboard"))
    assert dashboard.context["user"] == user
    assert member_org.name in dashboard.content.decode()
    assert AuditEvent.objects.filter(action="invitation.accepted", actor=user).exists()


def test_invited_person_can_then_sign_in_with_the_password_they_chose(client, coalition, member_org):
    invitation = factories.InvitationFactory(coalition=coalition, organisation=member_org)
    client.post(invitation.accept_path(), {"name": "A", "password1": "river-candle-77", "password2": "river-candle-77"})
    client.logout()
    response = client.post(reverse("account_login"), {"login": invitation.email, "password": "river-candle-77"})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200


def test_coordinator_invitation_grants_the_coordinator_role(client, coalition):
    invitation = factories.InvitationFactory(coalition=coalition, organisation=None, role=Invitation.Role.COORDINATOR)
    client.post(invitation.accept_path(), {"name": "C", "password1": "river-candle-77", "password2": "river-candle-77"})
    user = User.objects.get(email=invitation.email)
    assert CoalitionRole.objects.filter(user=user, coalition=coalition).exists()


def test_a_used_invitation_cannot_be_used_again(client, coalition, member_org):
    invitation = factories.InvitationFactory(coalition=coalition, organisation=member_org)
    data = {"name": "A", "password1": "river-candle-77", "password2": "river-candle-77"}
    client.post(invitation.accept_path(), data)
    client.logout()
    response = client.post(invitation.accept_path(), data)
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert User.objects.filter(email=invitation.email).count() == 1


def test_an_expired_invitation_is_refused_with_a_clear_message(client, coalition, member_org):
    invitation = factories.InvitationFactory(
        coalition=coalition, organisation=member_org, expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = client.get(invitation.accept_path())
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    response = client.post(invitation.accept_path(), {"name": "A", "password1": "river-candle-77", "password2": "river-candle-77"})
    assert response.status_code == 410
    assert not User.objects.filter(email=invitation.email).exists()


def test_an_unknown_invitation_token_is_a_404(client, db):
    assert client.get("/invitations/not-a-real-token/").status_code == 404


def test_a_revoked_invitation_is_refused(client, coalition, member_org, coordinator):
    invitation = factories.InvitationFactory(coalition=coalition, organisation=member_org)
    client.force_login(coordinator)
    client.post(reverse("invitation_revoke", args=[invitation.pk]))
    client.logout()
    assert client.get(invitation.accept_path()).status_code == 410


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": "A", "password1": "river-candle-77", "password2": "river-candle-78"}, "password2", "differ"),
        ({"name": "A", "password1": "short", "password2": "short"}, "password1", "too short"),
        ({"name": "", "password1": "river-candle-77", "password2": "river-candle-77"}, "name", "required"),
    ],
)
def test_bad_account_details_show_the_form_again_with_the_problem(client, coalition, member_org, data, field, message):
    invitation = factories.InvitationFactory(coalition=coalition, organisation=member_org)
    response = client.post(invitation.accept_path(), data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert response.context["form"]["name"].value() == data["name"]
    assert not User.objects.filter(email=invitation.email).exists()


def test_a_malformed_email_in_the_invitation_form_is_refused_and_the_input_kept(client, coalition, member_org, coordinator):
    client.force_login(coordinator)
    response = invite_via_page(client, coalition, member_org, email="not-an-address")
    assert response.status_code == 400
    assert "valid email" in " ".join(response.context["form"].errors["email"])
    assert 'value="not-an-address"' in response.content.decode()
    assert not Invitation.objects.exists()


def test_staff_invitation_needs_an_organisation(client, coalition, coordinator):
    client.force_login(coordinator)
    response = client.post(reverse("invitations", args=[coalition.slug]),
                           {"email": "x@example.org", "role": "staff", "language": "en"})
    assert response.status_code == 400
    assert response.context["form"].errors["organisation"]


@pytest.mark.parametrize("who", ["staff", "signer", "outsider"])
def test_only_coordinators_may_invite(client, coalition, member_org, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("invitations", args=[coalition.slug])).status_code == 403
    assert invite_via_page(client, coalition, member_org).status_code == 403
    assert not Invitation.objects.exists()


def test_anonymous_visitor_is_sent_to_sign_in_for_invitations(client, coalition):
    response = client.get(reverse("invitations", args=[coalition.slug]))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_existing_account_accepts_after_signing_in(client, coalition, member_org, outsider):
    invitation = factories.InvitationFactory(coalition=coalition, organisation=member_org, email=outsider.email,
                                             role=Invitation.Role.SIGNER)
    page = client.get(invitation.accept_path())
    assert "Sign in" in page.content.decode()
    client.force_login(outsider)
    assert client.post(invitation.accept_path()).status_code == 302
    assert OrganisationRole.objects.get(user=outsider, organisation=member_org).can_sign


def test_invitation_for_another_address_is_refused_to_a_signed_in_account(client, coalition, member_org, outsider):
    other = factories.UserFactory()
    invitation = factories.InvitationFactory(coalition=coalition, organisation=member_org, email=other.email)
    client.force_login(outsider)
    assert client.post(invitation.accept_path()).status_code == 403
    assert not OrganisationRole.objects.filter(user=outsider).exists()


def test_open_sign_up_is_closed(client, db):
    response = client.post(reverse("account_signup"), {"email": "a@example.org", "password1": "river-candle-77", "password2": "river-candle-77"})
    assert not User.objects.filter(email="a@example.org").exists()
    assert "closed" in response.content.decode().lower()


def test_invitation_email_is_in_the_chosen_language(client, coalition, member_org, coordinator, django_capture_on_commit_callbacks):
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("invitations", args=[coalition.slug]),
                    {"email": "uk@example.org", "role": "staff", "organisation": member_org.pk, "language": "uk"})
    assert "Вас запрошено" in mail.outbox[0].subject


def test_ukrainian_invitation_email_uses_the_genitive_month_and_says_its_language(coalition, member_org):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from coalition import notifications

    invitation = factories.InvitationFactory(
        coalition=coalition, organisation=member_org, language="uk",
        expires_at=datetime(2026, 12, 6, 12, tzinfo=ZoneInfo("Europe/Kyiv")),
    )
    notifications.invitation_sent(invitation)
    row = OutboundEmail.objects.get(recipient=invitation.email)
    assert "6 грудня 2026, 12:00 за київським часом" in row.body_text
    assert '<html lang="uk">' in row.body_html
