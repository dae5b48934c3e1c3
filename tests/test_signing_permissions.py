"""Who may do what with signatures: the grid of coalition.permissions' signing questions."""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from coalition import permissions
from statements.models import InvitedPartner, Signature

from .factories import (
    CoordinatorFactory,
    MembershipFactory,
    OrganisationFactory,
    OrganisationRoleFactory,
    make_statement,
)

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "outsider", "staff", "signer", "coordinator", "former_member_signer", "partner_signer",
         "uninvited_outside_signer", "signer_of_another_coalition", "coordinator_of_another_coalition"]


@pytest.fixture
def world(coalition, member_org, coordinator, staff, signer, outsider):
    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True)
    former = MembershipFactory(coalition=coalition, joined=date(2022, 1, 1), left=date(2023, 1, 1)).organisation
    partner, outside = OrganisationFactory(), OrganisationFactory()
    InvitedPartner.objects.create(statement=statement, organisation=partner, invited_by=coordinator)
    other = MembershipFactory()
    people = {
        "anonymous": (AnonymousUser(), None),
        "outsider": (outsider, None),
        "staff": (staff, member_org),
        "signer": (signer, member_org),
        "coordinator": (coordinator, None),
        "former_member_signer": (OrganisationRoleFactory(organisation=former, can_sign=True).user, former),
        "partner_signer": (OrganisationRoleFactory(organisation=partner, can_sign=True).user, partner),
        "uninvited_outside_signer": (OrganisationRoleFactory(organisation=outside, can_sign=True).user, outside),
        "signer_of_another_coalition": (OrganisationRoleFactory(organisation=other.organisation, can_sign=True).user,
                                        other.organisation),
        "coordinator_of_another_coalition": (CoordinatorFactory(coalition=other.coalition).user, None),
    }
    revision = statement.signed_revision
    org_signature = Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256,
                                             kind="organisation", organisation=member_org, signed_by=signer)
    individual = Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256,
                                          kind="individual", name="A person", email="a@example.org",
                                          confirmed_at=timezone.now())
    return statement, people, member_org, org_signature, individual


# question -> the roles answered yes
EXPECTED = {
    "can_sign_statement_for_own_organisation": {"signer", "partner_signer"},
    "can_sign_statement_for_the_member": {"signer"},
    "can_withdraw_the_members_signature": {"signer"},
    "can_view_roster": {"coordinator"},
    "can_hide_an_individual": {"coordinator"},
    "can_hide_an_organisation": set(),
    "can_invite_partner": {"coordinator"},
    "sees_the_partner_statement_as_partner": {"partner_signer"},
}


def ask(question, world, role) -> bool:
    statement, people, member_org, org_signature, individual = world
    user, own = people[role]
    answers = {
        "can_sign_statement_for_own_organisation":
            lambda: own is not None and permissions.can_sign_statement_for(user, statement, own),
        "can_sign_statement_for_the_member": lambda: permissions.can_sign_statement_for(user, statement, member_org),
        "can_withdraw_the_members_signature": lambda: permissions.can_withdraw_signature(user, org_signature),
        "can_view_roster": lambda: permissions.can_view_roster(user, statement),
        "can_hide_an_individual": lambda: permissions.can_hide_signature(user, individual),
        "can_hide_an_organisation": lambda: permissions.can_hide_signature(user, org_signature),
        "can_invite_partner": lambda: permissions.can_invite_partner(user, statement),
        "sees_the_partner_statement_as_partner": lambda: permissions.can_view_statement_as_partner(user, statement),
    }
    return answers[question]()


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("question", sorted(EXPECTED))
def test_signing_permission_grid(question, role, world):
    assert ask(question, world, role) is (role in EXPECTED[question])


@pytest.mark.parametrize("role", ROLES)
def test_signable_organisations_are_the_ones_the_person_may_sign_for(role, world):
    statement, people, *_ = world
    user, own = people[role]
    expected = [own] if role in EXPECTED["can_sign_statement_for_own_organisation"] else []
    assert list(permissions.signable_organisations(user, statement)) == expected


@pytest.mark.parametrize("allows_individuals, anonymous_sees", [(True, True), (False, False)])
def test_an_open_statement_is_public_only_if_individuals_may_sign(coalition, coordinator, allows_individuals,
                                                                  anonymous_sees):
    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=allows_individuals)
    assert permissions.can_view_statement(AnonymousUser(), statement) is anonymous_sees
    closed = make_statement(coalition, by=coordinator, status="closed", allows_individuals=allows_individuals)
    assert permissions.can_view_statement(AnonymousUser(), closed) is False
