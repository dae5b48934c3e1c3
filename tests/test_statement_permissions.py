"""Who may do what to a statement: the grid of coalition.permissions' statement questions."""

import pytest
from django.contrib.auth.models import AnonymousUser

from coalition import permissions

from .factories import CoordinatorFactory, MembershipFactory, OrganisationRoleFactory, make_statement

pytestmark = pytest.mark.django_db


ROLES = ["anonymous", "outsider", "staff", "signer", "coordinator", "former_member_staff",
         "staff_of_another_coalition", "coordinator_of_another_coalition"]
STATES = ["draft", "open", "closed", "published", "withdrawn", "withdrawn_after_publication"]
# A statement withdrawn before publication was never public, and does not become so.
PUBLIC = {"published", "withdrawn_after_publication"}
MEMBERS = {"staff", "signer", "coordinator"}

# question -> (roles answered yes, states in which they are; None means every state)
GRID = {
    "can_view_statement": None,  # special-cased below: members always, everyone once public
    "can_view_drafting": (MEMBERS, None),
    "can_edit_statement": None,  # special-cased: members in a draft, coordinators while open
    "can_translate": None,
    "can_comment": (MEMBERS, {"draft"}),
    "can_open": ({"coordinator"}, None),
    "can_close": ({"coordinator"}, None),
    "can_publish": ({"coordinator"}, None),
    "can_withdraw": ({"coordinator"}, None),
    "can_view_history": ({"coordinator"}, None),
}


def expected(question: str, role: str, state: str) -> bool:
    if question == "can_view_statement":
        return state in PUBLIC or role in MEMBERS
    if question in ("can_edit_statement", "can_translate"):
        return (state == "draft" and role in MEMBERS) or (state == "open" and role == "coordinator")
    roles, states = GRID[question]
    return role in roles and (states is None or state in states)


@pytest.fixture
def people(coalition, member_org, coordinator, staff, signer, outsider):
    from datetime import date

    former = MembershipFactory(coalition=coalition, joined=date(2022, 1, 1), left=date(2023, 1, 1))
    other_membership = MembershipFactory()
    return {
        "anonymous": AnonymousUser(),
        "outsider": outsider,
        "staff": staff,
        "signer": signer,
        "coordinator": coordinator,
        "former_member_staff": OrganisationRoleFactory(organisation=former.organisation).user,
        "staff_of_another_coalition": OrganisationRoleFactory(organisation=other_membership.organisation).user,
        "coordinator_of_another_coalition": CoordinatorFactory(coalition=other_membership.coalition).user,
    }


@pytest.fixture
def statements(coalition, staff, coordinator):
    from statements import services

    made = {state: make_statement(coalition, by=staff, coordinator=coordinator, status=state, title=state)
            for state in STATES[:-1]}
    published = make_statement(coalition, by=staff, coordinator=coordinator, status="published")
    made["withdrawn_after_publication"] = services.withdraw(published, by=coordinator, reason="Facts changed.")
    return made


@pytest.mark.parametrize("question", list(GRID))
def test_statement_permission_grid(question, people, statements):
    ask = getattr(permissions, question)
    answers = {(role, state): ask(people[role], statements[state]) for role in ROLES for state in STATES}
    wrong = {key: got for key, got in answers.items() if got != expected(question, *key)}
    assert wrong == {}


@pytest.mark.parametrize("role", ROLES)
def test_only_member_staff_and_coordinators_start_drafts(role, people, coalition):
    assert permissions.can_create_statement(people[role], coalition) == (role in MEMBERS)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_coalitions_coordinators_resolve_comments(role, people, statements, staff):
    from statements import services

    comment = services.add_comment(statements["draft"], by=staff, body="A comment.")
    assert permissions.can_resolve_comment(people[role], comment) == (role == "coordinator")
