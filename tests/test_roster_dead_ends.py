"""No dead ends on the roster and the people page: every organisation nobody may sign for links to
the invitation prepared for it; "Remind all" reminds only organisations someone may sign for and
says how many it reminded and how many have nobody; the note typed once is kept for the next
reminder; after an action the page opens where its message is."""

import re

import pytest
from django.urls import reverse

from coalition.models import OutboundEmail

from .factories import MembershipFactory, OrganisationRoleFactory, make_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(coalition, coordinator):
    return make_statement(coalition, by=coordinator, status="open", title="Free the hostages")


@pytest.fixture
def without_signers(coalition):
    """Three member organisations nobody may sign for (one has staff who may not)."""
    organisations = [MembershipFactory(coalition=coalition, organisation__name=f"Unsigned {n}").organisation
                     for n in range(3)]
    OrganisationRoleFactory(organisation=organisations[0], can_sign=False)
    return organisations


@pytest.fixture
def coordinator_client(client, coordinator):
    client.force_login(coordinator)
    return client


def roster_url(statement) -> str:
    return reverse("statement_roster", args=[statement.slug])


def invite_url(coalition, organisation) -> str:
    return f"{reverse('invitations', args=[coalition.slug])}?organisation={organisation.pk}&amp;role=signer"


def test_every_nobody_may_sign_row_links_to_the_invitation_for_that_organisation(
        coordinator_client, coalition, statement, signer, without_signers):
    page = coordinator_client.get(roster_url(statement)).content.decode()
    for organisation in without_signers:
        row = re.search(rf'<tr id="org-{organisation.slug}".*?</tr>', page, re.S).group(0)
        assert f'<a href="{invite_url(coalition, organisation)}">Nobody may sign yet: invite a signer' in row
        assert f'<span class="visually-hidden"> for {organisation.name}</span>' in row
    assert page.count("Nobody may sign yet: invite a signer") == 3  # the organisation with a signer has none
    assert "3 organisations without an answer have nobody who may sign for them, so they are not reminded" in page


def test_the_invitation_link_opens_the_form_with_the_organisation_and_role_chosen(
        coordinator_client, coalition, without_signers):
    organisation = without_signers[1]
    form = coordinator_client.get(invite_url(coalition, organisation).replace("&amp;", "&")).context["form"]
    assert form["organisation"].value() == str(organisation.pk) and form["role"].value() == "signer"


def test_remind_all_reminds_only_those_with_a_signer_and_says_how_many_have_nobody(
        coordinator_client, statement, member_org, signer, without_signers):
    response = coordinator_client.post(reverse("statement_remind", args=[statement.slug]), {"note": ""}, follow=True)
    said = [str(m) for m in response.context["messages"]]
    assert said == [f"{member_org.name} was reminded.",
                    "3 organisations without an answer have nobody who may sign for them: invite a signer for each "
                    "(the links are in the table)."]
    assert not any("not reminded" in m for m in said)
    assert {e.recipient for e in OutboundEmail.objects.filter(kind="signature_reminder")} == {signer.email}


def test_remind_all_with_only_organisations_nobody_may_sign_for_says_to_invite(
        coordinator_client, coalition, coordinator, without_signers):
    statement = make_statement(coalition, by=coordinator, status="open")
    response = coordinator_client.post(reverse("statement_remind", args=[statement.slug]), {"note": ""}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Nobody was reminded: nobody may sign for any of the organisations without an answer. "
        "Invite a signer for each of them."]


def test_the_note_typed_for_one_reminder_is_kept_for_remind_all(
        coordinator_client, coalition, statement, member_org, signer):
    other = MembershipFactory(coalition=coalition).organisation
    other_signer = OrganisationRoleFactory(organisation=other, can_sign=True).user
    note = "Please answer by Friday."
    coordinator_client.post(reverse("statement_remind_organisation", args=[statement.slug, member_org.slug]),
                            {"note": note})
    page = coordinator_client.get(roster_url(statement)).content.decode()
    assert re.search(r'<textarea name="note"[^>]*>\s*Please answer by Friday.</textarea>', page)
    # The form as the page gives it, sent to remind all: the other organisation gets the same note.
    coordinator_client.post(reverse("statement_remind", args=[statement.slug]), {"note": note})
    email = OutboundEmail.objects.get(kind="signature_reminder", recipient=other_signer.email)
    assert note in email.body_text


def test_a_refused_note_is_shown_again_as_typed(coordinator_client, statement, signer):
    long_note = "x" * 1001
    response = coordinator_client.post(reverse("statement_remind", args=[statement.slug]), {"note": long_note})
    assert response.status_code == 400 and long_note in response.content.decode()


def test_after_remind_all_the_page_opens_at_the_form_with_the_message_in_it(
        coordinator_client, statement, member_org, signer):
    response = coordinator_client.post(reverse("statement_remind", args=[statement.slug]), {"note": ""})
    assert response.url == f"{roster_url(statement)}?reminded=all#remind-form"
    page = coordinator_client.get(response.url).content.decode()
    form = re.search(r'<form [^>]*id="remind-form".*?</form>', page, re.S).group(0)
    assert 'tabindex="-1"' in form and f"{member_org.name} was reminded." in form
    assert page.count(f"{member_org.name} was reminded.") == 1  # not at the top as well


def test_after_reminding_one_organisation_the_message_is_in_its_row(
        coordinator_client, coalition, statement, member_org, signer):
    other = MembershipFactory(coalition=coalition).organisation
    OrganisationRoleFactory(organisation=other, can_sign=True)
    response = coordinator_client.post(
        reverse("statement_remind_organisation", args=[statement.slug, other.slug]), {"note": ""})
    assert response.url == f"{roster_url(statement)}?reminded={other.slug}#org-{other.slug}"
    page = coordinator_client.get(response.url).content.decode()
    row = re.search(rf'<tr id="org-{other.slug}" tabindex="-1">.*?</tr>', page, re.S).group(0)
    assert f"{other.name} was reminded." in row and page.count(f"{other.name} was reminded.") == 1


def test_a_message_for_a_place_not_on_the_page_shows_at_the_top(coordinator_client, statement, member_org, signer):
    coordinator_client.post(reverse("statement_remind", args=[statement.slug]), {"note": ""})
    page = coordinator_client.get(f"{roster_url(statement)}?reminded=no-such-organisation").content.decode()
    top = page.split("<h1>")[0]
    assert f"{member_org.name} was reminded." in top


# The people page ------------------------------------------------------------------------------


def test_the_people_page_links_each_organisation_without_a_signer_to_inviting_one(
        coordinator_client, coalition, member_org, signer, without_signers):
    page = coordinator_client.get(reverse("coalition_people", args=[coalition.slug])).content.decode()
    notice = re.search(r'<section class="notice warn".*?</section>', page, re.S).group(0)
    for organisation in without_signers:
        assert f'href="{invite_url(coalition, organisation)}">invite a signer' in notice
    assert member_org.name not in notice


def test_after_an_action_on_the_people_page_the_message_is_in_the_organisation_acted_on(
        coordinator_client, coalition, member_org, staff):
    from coalition.models import OrganisationRole

    role = OrganisationRole.objects.get(user=staff)
    response = coordinator_client.post(reverse("coalition_people_grant_signing", args=[coalition.slug, role.pk]))
    page = coordinator_client.get(response.url).content.decode()
    section = re.search(rf'<section class="people-organisation" id="organisation-{member_org.slug}".*?</section>',
                        page, re.S).group(0)
    assert "may now sign for" in section and page.count("may now sign for") == 1


@pytest.mark.parametrize("query", ["?organisation=abc&role=signer", "?organisation=999999&role=nonsense"])
def test_the_invitation_form_ignores_a_query_string_naming_nothing_it_knows(coordinator_client, coalition, query):
    response = coordinator_client.get(reverse("invitations", args=[coalition.slug]) + query)
    assert response.status_code == 200
    assert not re.findall(r'<option value="\d+" selected', response.content.decode())  # nothing chosen for them
