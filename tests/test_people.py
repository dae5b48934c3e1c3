"""Coordinators manage who works for each member organisation and who may sign for it."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from coalition.models import AuditEvent, CoalitionRole, OrganisationRole, OutboundEmail, User

from statements.models import Signature
from statements.services import cosigning

from . import factories

pytestmark = pytest.mark.django_db

ACTIONS = ["coalition_people_grant_signing", "coalition_people_withdraw_signing", "coalition_people_remove"]


def people_url(coalition):
    return reverse("coalition_people", args=[coalition.slug])


def act(client, name, coalition, role, capture):
    with capture(execute=True):
        return client.post(reverse(name, args=[coalition.slug, role.pk]))


def watched() -> dict:
    return {"roles": list(OrganisationRole.objects.order_by("pk").values()),
            "events": AuditEvent.objects.count(), "emails": OutboundEmail.objects.count(),
            "users": User.objects.count(), "signatures": list(Signature.objects.values())}


def test_page_lists_each_member_organisation_with_its_staff_and_marks_those_nobody_may_sign_for(
        client, coalition, member_org, coordinator, signer, staff):
    silent = factories.MembershipFactory(coalition=coalition, organisation__name="Nobody Signs Here").organisation
    factories.OrganisationRoleFactory(organisation=silent, user__name="Petro Drafter", can_sign=False)
    factories.MembershipFactory(coalition=coalition, organisation__name="Gone Away", left=timezone.localdate())
    factories.MembershipFactory(organisation__name="Elsewhere Only")
    client.force_login(coordinator)

    response = client.get(people_url(coalition))

    assert response.status_code == 200
    page = response.content.decode()
    assert member_org.name in page and silent.name in page
    assert "Gone Away" not in page and "Elsewhere Only" not in page
    for person in (signer, staff):
        assert person.email in page and person.name in page
    rows = {row.organisation: row for row in response.context["organisations"]}
    assert rows[member_org].has_signer and not rows[silent].has_signer
    assert [row.organisation for row in response.context["without_signer"]] == [silent]
    assert "cannot sign: nobody has signing authority" in page
    assert "1 organisation cannot sign statements" in page
    assert f"?organisation={silent.pk}&amp;role=signer" in page
    assert reverse("coalition_people_withdraw_signing", args=[coalition.slug, signer.organisation_roles.get().pk]) in page
    assert reverse("coalition_people_grant_signing", args=[coalition.slug, staff.organisation_roles.get().pk]) in page
    assert "does not touch signatures they have already made" in page


def test_page_is_linked_from_the_coalition_page_and_the_navigation_for_its_coordinators(
        client, coalition, coordinator):
    client.force_login(coordinator)
    url = people_url(coalition)
    assert url in client.get(coalition.get_absolute_url()).content.decode()
    assert url in client.get(reverse("dashboard")).content.decode()


def test_invitation_form_preselects_the_organisation_from_the_people_page_link(client, coalition, member_org, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("invitations", args=[coalition.slug]) + f"?organisation={member_org.pk}&role=signer")
    page = response.content.decode()
    assert f'<option value="{member_org.pk}" selected>' in page
    assert '<option value="signer" selected>' in page


def test_granting_signing_authority_lets_the_person_sign_records_it_and_tells_them_in_their_language(
        client, coalition, member_org, coordinator, staff, django_capture_on_commit_callbacks):
    staff.language = "uk"
    staff.save()
    role = staff.organisation_roles.get()
    client.force_login(coordinator)

    response = act(client, "coalition_people_grant_signing", coalition, role, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response.url == people_url(coalition) + f"?acted={member_org.slug}#organisation-{member_org.slug}"
    role.refresh_from_db()
    assert role.can_sign and role.signing_since is not None
    event = AuditEvent.objects.get(action="member.signing_granted")
    assert event.actor == coordinator and event.object_id == str(member_org.pk)
    assert event.data["email"] == staff.email
    [message] = mail.outbox
    assert message.to == [staff.email]
    assert message.subject == f"Тепер ви можете підписувати від імені {member_org.name}"
    assert member_org.name in message.body and coalition.name in message.body
    assert "may now sign" in client.get(people_url(coalition)).content.decode()


def test_withdrawing_signing_authority_keeps_signatures_already_made(
        client, coalition, member_org, coordinator, signer, django_capture_on_commit_callbacks):
    statement = factories.make_statement(coalition, by=coordinator, status="open")
    signature = cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                                sha256=statement.signed_revision.sha256)
    role = signer.organisation_roles.get()
    client.force_login(coordinator)

    act(client, "coalition_people_withdraw_signing", coalition, role, django_capture_on_commit_callbacks)

    role.refresh_from_db()
    assert not role.can_sign and role.signing_since is None
    signature.refresh_from_db()
    assert signature.signed_by == signer and signature.withdrawn_at is None
    assert AuditEvent.objects.get(action="member.signing_withdrawn").data["email"] == signer.email
    [message] = mail.outbox
    assert message.to == [signer.email]
    assert message.subject == f"You may no longer sign for {member_org.name}"
    assert "Signatures you made before now stand" in message.body


def test_removing_a_person_from_the_staff_keeps_their_account_and_signatures(
        client, coalition, member_org, coordinator, signer, django_capture_on_commit_callbacks):
    statement = factories.make_statement(coalition, by=coordinator, status="open")
    signature = cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                                sha256=statement.signed_revision.sha256)
    client.force_login(coordinator)

    response = act(client, "coalition_people_remove", coalition, signer.organisation_roles.get(),
                   django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert not OrganisationRole.objects.filter(user=signer).exists()
    assert User.objects.filter(pk=signer.pk, is_active=True).exists()
    signature.refresh_from_db()
    assert signature.signed_by == signer and signature.withdrawn_at is None
    event = AuditEvent.objects.get(action="member.removed")
    assert event.data["email"] == signer.email and event.data["could_sign"] is True
    [message] = mail.outbox
    assert message.to == [signer.email]
    assert message.subject == f"You are no longer on the staff of {member_org.name}"
    page = client.get(people_url(coalition)).content.decode()
    assert "is no longer on the staff of" in page and signer.email not in page


def test_granting_twice_says_so_and_sends_nothing_more(client, coalition, coordinator, signer,
                                                       django_capture_on_commit_callbacks):
    client.force_login(coordinator)
    before = watched()
    response = act(client, "coalition_people_grant_signing", coalition, signer.organisation_roles.get(),
                   django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert watched() == before and not mail.outbox
    assert "already holds signing authority" in client.get(people_url(coalition)).content.decode()


def test_a_coordinator_taking_themselves_off_an_organisation_stays_coordinator(
        client, coalition, member_org, coordinator, django_capture_on_commit_callbacks):
    role = OrganisationRole.objects.create(user=coordinator, organisation=member_org, coalition=coalition, can_sign=True)
    client.force_login(coordinator)
    act(client, "coalition_people_remove", coalition, role, django_capture_on_commit_callbacks)
    assert not OrganisationRole.objects.filter(pk=role.pk).exists()
    assert CoalitionRole.objects.filter(user=coordinator, coalition=coalition).exists()
    assert client.get(people_url(coalition)).status_code == 200


@pytest.fixture
def other_coordinator(db):
    return factories.CoordinatorFactory(coalition=factories.MembershipFactory().coalition).user


@pytest.mark.parametrize("who", ["other_coordinator", "staff", "signer"])
def test_people_page_is_refused_to_everyone_but_the_coalitions_coordinators(client, request, coalition, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(people_url(coalition)).status_code == 403


def test_people_page_sends_anonymous_visitors_to_sign_in(client, coalition):
    response = client.get(people_url(coalition))
    assert response.status_code == 302 and reverse("account_login") in response.url


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("who", ["other_coordinator", "staff", "signer"])
def test_actions_are_refused_to_everyone_but_the_coalitions_coordinators_and_change_nothing(
        client, request, coalition, signer, staff, action, who):
    client.force_login(request.getfixturevalue(who))
    before = watched()
    for role in (signer.organisation_roles.get(), staff.organisation_roles.get()):
        assert client.post(reverse(action, args=[coalition.slug, role.pk])).status_code == 403
    assert watched() == before and not mail.outbox


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_on_an_organisation_that_is_not_a_current_member_answer_404(client, coalition, coordinator, action):
    left = factories.MembershipFactory(coalition=coalition, left=timezone.localdate()).organisation
    elsewhere = factories.MembershipFactory().organisation
    roles = [factories.OrganisationRoleFactory(organisation=org, can_sign=signs)
             for org in (left, elsewhere) for signs in (True, False)]
    client.force_login(coordinator)
    before = watched()
    for role in roles:
        assert client.post(reverse(action, args=[coalition.slug, role.pk])).status_code == 404
    assert client.post(reverse(action, args=[coalition.slug, 999999])).status_code == 404
    assert watched() == before and not mail.outbox


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_refuse_get(client, coalition, coordinator, signer, action):
    client.force_login(coordinator)
    before = watched()
    assert client.get(reverse(action, args=[coalition.slug, signer.organisation_roles.get().pk])).status_code == 405
    assert watched() == before


def test_signing_since_follows_the_authority_however_the_role_is_saved(member_org):
    role = factories.OrganisationRoleFactory(organisation=member_org, can_sign=True)
    assert role.signing_since is not None
    role.can_sign = False
    role.save(update_fields=["can_sign"])
    role.refresh_from_db()
    assert role.signing_since is None
