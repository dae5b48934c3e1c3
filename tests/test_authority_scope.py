"""Signing authority, and a place on an organisation's staff, count only in the coalition whose
coordinator gave them.

One organisation ("Both Ways") is a member of coalition A (the `coalition` fixture) and of
coalition B. A's signer was given authority in A; B's coordinator invites a signer of their own.
Every direction is tried: B's signer on A's statements and pages, B's coordinator on A's grants,
and the other way round.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from coalition import permissions, services as coalition_services
from coalition.models import AuditEvent, Invitation, OrganisationRole, OutboundEmail

from statements import services
from statements.models import Decline, Signature, Statement
from statements.services import cosigning

from . import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def other(member_org):
    """Coalition B, of which the member organisation is also a member, and its coordinator."""
    coalition_b = factories.CoalitionFactory(name="Coalition B", slug="coalition-b")
    factories.MembershipFactory(coalition=coalition_b, organisation=member_org)
    return coalition_b, factories.CoordinatorFactory(coalition=coalition_b).user


def accept(coalition, coordinator, organisation, *, email: str, role=Invitation.Role.SIGNER):
    """`coordinator` invites `email` to `organisation` for `coalition`, and the person accepts."""
    invitation = coalition_services.invite(coalition, by=coordinator, email=email, role=role,
                                           organisation=organisation)
    return coalition_services.accept_invitation_as_new_user(invitation.token, name=email.split("@")[0],
                                                            password=factories.PASSWORD)


@pytest.fixture
def b_signer(other, member_org):
    """Someone B's coordinator invited to sign for the organisation both coalitions share."""
    coalition_b, coordinator_b = other
    return accept(coalition_b, coordinator_b, member_org, email="b-signer@example.org")


def watched() -> dict:
    return {"signatures": list(Signature.objects.order_by("pk").values()),
            "declines": list(Decline.objects.order_by("pk").values()),
            "roles": list(OrganisationRole.objects.order_by("pk").values()),
            "statements": list(Statement.objects.order_by("pk").values()),
            "events": AuditEvent.objects.count(), "emails": OutboundEmail.objects.count()}


def test_accepting_an_invitation_gives_a_role_for_the_inviting_coalition_only(b_signer, other, member_org, coalition):
    coalition_b, _ = other
    role = OrganisationRole.objects.get(user=b_signer)
    assert (role.organisation, role.coalition, role.can_sign) == (member_org, coalition_b, True)
    assert permissions.can_sign_for(b_signer, member_org, coalition_b)
    assert not permissions.can_sign_for(b_signer, member_org, coalition)
    assert permissions.is_member_staff(b_signer, coalition_b)
    assert not permissions.is_member_staff(b_signer, coalition)


def test_b_signer_does_not_see_a_drafts_open_statements_or_embargoed_pdf(
        client, coalition, coordinator, signer, member_org, b_signer, django_capture_on_commit_callbacks):
    draft = factories.make_statement(coalition, by=coordinator, title="A's private draft")
    open_statement = factories.make_statement(coalition, by=coordinator, status="open", title="A's open statement")
    embargoed = factories.make_statement(coalition, by=coordinator, status="open", title="A's embargoed statement")
    cosigning.sign_for_organisation(embargoed, by=signer, organisation=member_org,
                                    sha256=embargoed.signed_revision.sha256)
    services.close_signing(embargoed, by=coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish(embargoed, by=coordinator, public_from=timezone.now() + timedelta(hours=2))
    pdf_url = reverse("statement_pdf", args=[embargoed.slug])

    client.force_login(signer)  # A's own signer, for contrast
    assert client.get(draft.get_absolute_url()).status_code == 200
    assert client.get(pdf_url).status_code == 200

    client.force_login(b_signer)
    for statement in (draft, open_statement, embargoed):
        assert client.get(statement.get_absolute_url()).status_code == 404
        assert client.get(reverse("statement_sign", args=[statement.slug])).status_code == 404
    assert client.get(pdf_url).status_code == 404
    assert client.get(reverse("statement_history", args=[draft.slug])).status_code == 404
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "A&#x27;s private draft" not in dashboard and "A&#x27;s open statement" not in dashboard
    assert "Coalition B" in dashboard  # their role is listed with the coalition it counts for


@pytest.fixture
def a_open(coalition, coordinator, signer, member_org):
    """A's statement, open to organisations and (so it is public while open) to individuals;
    A's signer signed it for the shared organisation."""
    statement = factories.make_statement(coalition, by=coordinator, status="open", title="A's open statement",
                                         allows_individuals=True)
    signature = cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                                sha256=statement.signed_revision.sha256)
    return statement, signature


@pytest.mark.parametrize("action", ["withdraw", "sign_again", "decline", "confirm"])
def test_b_signer_cannot_act_for_the_organisation_on_a_statement_of_a(client, a_open, member_org, b_signer, action):
    statement, signature = a_open
    sha256 = statement.signed_revision.sha256
    if action == "sign_again":  # withdrawn by A's own signer first, so that signing would be possible
        cosigning.withdraw_signature(signature, by=signature.signed_by)
    requests = {
        "withdraw": (reverse("signature_withdraw", args=[statement.slug, signature.pk]), {}),
        "sign_again": (reverse("statement_sign", args=[statement.slug]),
                       {"organisation": member_org.slug, "sha256": sha256}),
        "decline": (reverse("statement_decline", args=[statement.slug]),
                    {"organisation": member_org.slug, "reason": "Not us."}),
        "confirm": (reverse("signature_confirm_text", args=[statement.slug, signature.pk]), {"sha256": sha256}),
    }
    url, data = requests[action]
    client.force_login(b_signer)
    before = watched()
    response = client.post(url, data)
    assert response.status_code == 403
    assert watched() == before
    assert member_org.name not in client.get(reverse("statement_sign", args=[statement.slug])).content.decode()


def test_b_signer_is_refused_by_the_services_too(a_open, member_org, b_signer):
    statement, signature = a_open
    from django.core.exceptions import PermissionDenied

    before = watched()
    with pytest.raises(PermissionDenied):
        cosigning.withdraw_signature(signature, by=b_signer)
    with pytest.raises(PermissionDenied):
        cosigning.decline(statement, by=b_signer, organisation=member_org, reason="")
    assert watched() == before
    assert list(permissions.signable_organisations(b_signer, statement)) == []


def test_a_grant_made_in_b_gives_nothing_in_a_and_the_a_grant_still_works_in_a(
        client, coalition, coordinator, member_org, other, django_capture_on_commit_callbacks):
    coalition_b, coordinator_b = other
    person = accept(coalition_b, coordinator_b, member_org, email="staff-in-b@example.org", role=Invitation.Role.STAFF)
    role_b = OrganisationRole.objects.get(user=person)
    client.force_login(coordinator_b)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("coalition_people_grant_signing", args=[coalition_b.slug, role_b.pk]))
    assert response.status_code == 302
    role_b.refresh_from_db()
    assert role_b.can_sign

    statement = factories.make_statement(coalition, by=coordinator, status="open", title="A's statement")
    statement_b = factories.make_statement(coalition_b, by=coordinator_b, status="open", title="B's statement")
    client.force_login(person)
    sha256 = statement.signed_revision.sha256
    assert client.post(reverse("statement_sign", args=[statement.slug]),
                       {"organisation": member_org.slug, "sha256": sha256}).status_code == 404
    assert not Signature.objects.filter(statement=statement).exists()
    client.post(reverse("statement_sign", args=[statement_b.slug]),
                {"organisation": member_org.slug, "sha256": statement_b.signed_revision.sha256})
    assert Signature.objects.get(statement=statement_b).signed_by == person

    # A's coordinator now invites the same person to sign in A: a second role, for A
    client.force_login(coordinator)
    client.post(reverse("invitations", args=[coalition.slug]),
                {"email": person.email, "role": "signer", "organisation": member_org.pk, "language": "en"})
    coalition_services.accept_invitation_as_existing_user(factories.emailed_invitation_token(person.email), user=person)
    assert sorted(OrganisationRole.objects.filter(user=person).values_list("coalition__slug", flat=True)) == [
        "coalition-b", coalition.slug]
    client.force_login(person)
    client.post(reverse("statement_sign", args=[statement.slug]), {"organisation": member_org.slug, "sha256": sha256})
    assert Signature.objects.get(statement=statement).signed_by == person


def test_b_coordinator_neither_sees_nor_changes_the_grants_of_a(
        client, coalition, coordinator, member_org, signer, staff, other, b_signer):
    coalition_b, coordinator_b = other
    client.force_login(coordinator_b)
    page = client.get(reverse("coalition_people", args=[coalition_b.slug])).content.decode()
    assert member_org.name in page and b_signer.email in page
    assert signer.email not in page and staff.email not in page

    before = watched()
    for action in ("coalition_people_grant_signing", "coalition_people_withdraw_signing", "coalition_people_remove"):
        for role in (signer.organisation_roles.get(), staff.organisation_roles.get()):
            assert client.post(reverse(action, args=[coalition_b.slug, role.pk])).status_code == 404
            assert client.post(reverse(action, args=[coalition.slug, role.pk])).status_code == 403
    assert watched() == before and not mail.outbox


def test_b_coordinator_is_refused_by_the_services_too(coalition, signer, other):
    coalition_b, coordinator_b = other
    from django.core.exceptions import PermissionDenied

    role = signer.organisation_roles.get()
    before = watched()
    for service in (coalition_services.withdraw_signing_authority, coalition_services.remove_from_staff):
        with pytest.raises(PermissionDenied):
            service(coalition_b, role, by=coordinator_b)
    assert watched() == before


def test_a_coordinator_withdrawing_a_grant_leaves_the_same_persons_b_grant(
        client, coalition, coordinator, member_org, other, b_signer, django_capture_on_commit_callbacks):
    coalition_b, _ = other
    invitation = coalition_services.invite(coalition, by=coordinator, email=b_signer.email,
                                           role=Invitation.Role.SIGNER, organisation=member_org)
    coalition_services.accept_invitation_as_existing_user(invitation.token, user=b_signer)
    role_a = OrganisationRole.objects.get(user=b_signer, coalition=coalition)
    client.force_login(coordinator)
    page = client.get(reverse("coalition_people", args=[coalition.slug])).content.decode()
    assert reverse("coalition_people_withdraw_signing", args=[coalition.slug, role_a.pk]) in page
    assert str(OrganisationRole.objects.get(user=b_signer, coalition=coalition_b).pk) not in [
        part.rstrip("/") for part in page.split("/")]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("coalition_people_withdraw_signing", args=[coalition.slug, role_a.pk]))
    assert not permissions.can_sign_for(b_signer, member_org, coalition)
    assert permissions.can_sign_for(b_signer, member_org, coalition_b)


def test_opening_a_statement_emails_only_the_signers_of_its_coalition(
        coalition, coordinator, signer, member_org, b_signer, django_capture_on_commit_callbacks):
    draft = factories.make_statement(coalition, by=coordinator, title="A's statement")
    with django_capture_on_commit_callbacks(execute=True):
        services.open_for_signature(draft, by=coordinator, deadline=None)
    recipients = set(OutboundEmail.objects.filter(kind="statement_opened").values_list("recipient", flat=True))
    assert signer.email in recipients and b_signer.email not in recipients


# Partners -------------------------------------------------------------------------------------


def test_a_partner_signs_through_a_role_made_by_the_inviting_coalition_not_through_its_other_roles(
        client, coalition, coordinator, other):
    """The partner is a member of B (not of A); A invites it to sign one statement. B's signer of
    the partner gets nothing in A; A's coordinator invites a signer for the partner, who signs."""
    coalition_b, coordinator_b = other
    partner = factories.MembershipFactory(coalition=coalition_b, organisation__name="Partner in B").organisation
    partner_b_signer = accept(coalition_b, coordinator_b, partner, email="partner-b@example.org")
    statement = factories.make_statement(coalition, by=coordinator, status="open", title="A's joint statement")
    client.force_login(coordinator)
    assert client.post(reverse("invitations", args=[coalition.slug]), {
        "email": "partner-a@example.org", "role": "signer", "organisation": partner.pk, "language": "en",
    }).status_code == 400  # not yet a partner of A: the form refuses it
    assert not Invitation.objects.filter(email="partner-a@example.org").exists()
    cosigning.invite_partner(statement, by=coordinator, organisation=partner)

    client.force_login(partner_b_signer)
    assert client.get(statement.get_absolute_url()).status_code == 404
    assert not permissions.can_sign_statement_for(partner_b_signer, statement, partner)

    client.force_login(coordinator)
    client.post(reverse("invitations", args=[coalition.slug]), {
        "email": "partner-a@example.org", "role": "signer", "organisation": partner.pk, "language": "en"})
    partner_a_signer = coalition_services.accept_invitation_as_new_user(
        factories.emailed_invitation_token("partner-a@example.org"), name="Partner Signer", password=factories.PASSWORD)
    people = client.get(reverse("coalition_people", args=[coalition.slug])).content.decode()
    assert "Partner in B" in people and "invited partner" in people
    assert partner_a_signer.email in people and partner_b_signer.email not in people

    client.force_login(partner_a_signer)
    assert "Partner in B" in client.get(reverse("statement_sign", args=[statement.slug])).content.decode()
    client.post(reverse("statement_sign", args=[statement.slug]),
                {"organisation": partner.slug, "sha256": statement.signed_revision.sha256})
    assert Signature.objects.get(statement=statement, organisation=partner).signed_by == partner_a_signer
    # ... and A's grant for the partner gives nothing on B's statements
    statement_b = factories.make_statement(coalition_b, by=coordinator_b, status="open", title="B's statement")
    assert not permissions.can_sign_statement_for(partner_a_signer, statement_b, partner)
    assert permissions.can_sign_statement_for(partner_b_signer, statement_b, partner)


# The admin --------------------------------------------------------------------------------------


def test_the_admin_requires_the_coalition_of_a_role_and_lists_it(client, coalition, coordinator, member_org, other):
    coalition_b, _ = other
    coordinator.is_staff = coordinator.is_superuser = True
    coordinator.save()
    person = factories.UserFactory()
    client.force_login(coordinator)
    add_url = reverse("admin:coalition_organisationrole_add")
    now = timezone.localtime()
    data = {"user": person.pk, "organisation": member_org.pk, "can_sign": "on",
            "created_at_0": now.strftime("%Y-%m-%d"), "created_at_1": now.strftime("%H:%M:%S")}
    response = client.post(add_url, data)
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert set(response.context["adminform"].form.errors) == {"coalition"}
    assert not OrganisationRole.objects.filter(user=person).exists()

    response = client.post(add_url, {**data, "coalition": coalition_b.pk})
    assert response.status_code == 302, response.context["adminform"].form.errors
    role = OrganisationRole.objects.get(user=person)
    assert role.coalition == coalition_b and role.signing_since is not None
    listing = client.get(reverse("admin:coalition_organisationrole_changelist")).content.decode()
    assert "Coalition B" in listing
    assert permissions.can_sign_for(person, member_org, coalition_b)
    assert not permissions.can_sign_for(person, member_org, coalition)
