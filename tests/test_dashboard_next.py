"""The dashboard says, per role, what to do next: a signer's organisations and their answers (a
statement all of them answered moves to "Answered"), the time left before the deadline, the drafts
waiting for a member, and a coordinator's open statements with their counts and next step. Every
list is computed in a fixed number of queries."""

import html as html_module
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from statements import dashboards, services
from statements.services import cosigning
from statements.models import Comment

from .factories import MembershipFactory, OrganisationRoleFactory, make_statement

pytestmark = pytest.mark.django_db


def section(page: str, heading_id: str) -> str:
    """The HTML of the <section> labelled by `heading_id`."""
    found = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', page, re.S)
    return found.group(1) if found else ""


def text(html: str) -> str:
    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def second_org(coalition, signer):
    organisation = MembershipFactory(coalition=coalition, organisation__name="Second Org").organisation
    OrganisationRoleFactory(user=signer, organisation=organisation, can_sign=True)
    return organisation


@pytest.fixture
def statement(coalition, coordinator):
    return make_statement(coalition, by=coordinator, status="open", title="Free the hostages")


def sign(statement, user, organisation):
    return cosigning.sign_for_organisation(statement, by=user, organisation=organisation,
                                           sha256=statement.signed_revision.sha256)


def dashboard(client, user) -> str:
    client.force_login(user)
    return client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


# Signers and staff ------------------------------------------------------------------------------


def test_a_signer_sees_each_organisation_s_state_and_the_button_to_sign(client, statement, signer, member_org, second_org):
    sign(statement, signer, member_org)
    mine = section(dashboard(client, signer), "mine-heading")
    waiting = mine.split('id="answered-heading"')[0]
    assert "Free the hostages" in waiting
    assert f"{member_org.name}: signed (revision 1)" in text(waiting) and "Second Org: not answered" in text(waiting)
    # One organisation still to answer: the button signs for it.
    assert f'href="/statements/{statement.slug}/sign/?organisation={second_org.slug}"' in waiting
    assert 'id="answered-heading"' not in mine


def test_a_statement_both_organisations_answered_moves_to_answered_and_is_not_waiting(
        client, statement, signer, member_org, second_org):
    sign(statement, signer, member_org)
    cosigning.decline(statement, by=signer, organisation=second_org, reason="")
    mine = section(dashboard(client, signer), "mine-heading")
    waiting, answered = mine.split('id="answered-heading"')
    assert "Free the hostages" not in waiting and "Free the hostages" in answered
    assert "Nothing waits for you" in waiting
    assert "Second Org: declined" in text(answered) and ">View<" in answered.replace('<span class="visually-hidden">', "<")


def test_a_changed_text_asks_the_signer_to_confirm_it(client, statement, signer, member_org, coordinator):
    sign(statement, signer, member_org)
    services.save_revision(statement, by=coordinator, based_on=statement.current_revision,
                           draft=services.Draft("Free the hostages", "", "A changed text."))
    mine = section(dashboard(client, signer), "mine-heading")
    assert "Free the hostages" in mine.split('id="answered-heading"')[0]
    assert "signed revision 1; text changed: confirm" in text(mine)
    assert "Confirm the new text" in mine


def test_staff_without_the_right_see_who_answers_and_when_nobody_may_sign(client, coalition, statement, staff, signer):
    assert "not answered (a colleague who may sign answers)" in text(section(dashboard(client, staff), "mine-heading"))
    lone = MembershipFactory(coalition=coalition, organisation__name="Lone Org").organisation
    lonely = OrganisationRoleFactory(organisation=lone, can_sign=False).user
    mine = text(section(dashboard(client, lonely), "mine-heading"))
    assert "Lone Org: nobody in your organisation may sign" in mine and "Sign :" not in mine


def test_the_time_left_is_said_and_under_48_hours_marked_urgent(client, statement, signer):
    statement.deadline = timezone.now() + timedelta(days=3, hours=2)
    statement.save(update_fields=["deadline"])
    mine = section(dashboard(client, signer), "mine-heading")
    assert "closes in 3 days," in text(mine) and "Kyiv time" in mine and "urgent" not in mine
    statement.deadline = timezone.now() + timedelta(hours=30, minutes=30)
    statement.save(update_fields=["deadline"])
    mine = section(dashboard(client, signer), "mine-heading")
    assert 'class="deadline urgent"' in mine and "Closing soon:" in mine and "closes in 30 hours," in text(mine)


def test_time_left_counts_days_then_hours():
    now = timezone.now()
    assert dashboards.time_left(now + timedelta(days=2, hours=1), now) == "2 days"
    assert dashboards.time_left(now + timedelta(hours=47, minutes=59), now) == "47 hours"
    assert dashboards.time_left(now + timedelta(minutes=20), now) == "less than an hour"
    assert dashboards.time_left(now - timedelta(minutes=20), now) == ""


def test_a_person_of_no_organisation_is_told_how_to_join(client, outsider):
    mine = text(section(dashboard(client, outsider), "mine-heading"))
    assert "not on the staff of any organisation yet" in mine and "invite you" in mine


def test_with_nothing_open_the_signer_is_told_what_happens_next(client, signer):
    assert "When a coordinator opens one, you get an email" in dashboard(client, signer)


# Drafts -------------------------------------------------------------------------------------------


def test_drafts_say_what_waits_unresolved_comments_and_changes_by_others(client, coalition, staff, signer):
    draft = make_statement(coalition, by=signer, title="A colleague's draft")
    Comment.objects.create(statement=draft, revision=draft.current_revision, author=signer, body="Check the date.")
    make_statement(coalition, by=staff, title="My own draft")
    drafts = text(section(dashboard(client, staff), "drafts-heading"))
    assert "A colleague's draft" in drafts and "1 unresolved comment" in drafts
    assert f"last changed by {signer.get_full_name()}" in drafts and "My own draft" in drafts
    assert "last changed by you" in drafts


# Coordinators -------------------------------------------------------------------------------------


def test_the_coordinator_sees_counts_and_the_next_step(client, coalition, statement, coordinator, signer, member_org):
    declining = MembershipFactory(coalition=coalition).organisation
    decliner = OrganisationRoleFactory(organisation=declining, can_sign=True).user
    for _ in range(2):  # two that have someone to remind, three that have nobody
        OrganisationRoleFactory(organisation=MembershipFactory(coalition=coalition).organisation, can_sign=True)
    for _ in range(3):
        MembershipFactory(coalition=coalition)
    sign(statement, signer, member_org)
    cosigning.decline(statement, by=decliner, organisation=declining, reason="")
    page = dashboard(client, coordinator)
    coordinating = text(section(page, "coordinating-heading"))
    assert "1 signed" in coordinating and "1 declined" in coordinating and "5 not answered yet" in coordinating
    assert "Remind 2 organisations" in coordinating
    assert "3 organisations without an answer have nobody who may sign for them." in coordinating
    assert f'href="/statements/{statement.slug}/roster/#remind-form"' in page
    assert "/coalitions/test-coalition/people/#without-signer-heading" in page


def test_with_nobody_to_remind_the_next_step_is_to_review_and_close(client, statement, coordinator, signer, member_org):
    sign(statement, signer, member_org)
    coordinating = section(dashboard(client, coordinator), "coordinating-heading")
    assert "Remind" not in text(coordinating)
    assert f'class="button" href="/statements/{statement.slug}/review/close/"' in coordinating


def test_a_closed_statement_waits_to_be_published(client, coalition, coordinator):
    closed = make_statement(coalition, by=coordinator, status="closed", title="To publish")
    coordinating = section(dashboard(client, coordinator), "coordinating-heading")
    assert "Closed, waiting to be published" in coordinating
    assert f'href="/statements/{closed.slug}/review/publish/"' in coordinating


def test_no_contradictory_empty_state_under_open_statements(client, statement, coordinator):
    """The coordinator is on no organisation's staff: the page used to say "No statement is open
    for signature" (the list of statements their organisations may sign, empty) under the open
    statement listed for them as coordinator."""
    page = dashboard(client, coordinator)
    assert "Free the hostages" in section(page, "coordinating-heading")
    assert "is open for signature" not in text(page).replace("No statement of your coalitions", "")
    assert 'id="mine-heading"' not in page


def test_a_coordinator_with_nothing_open_is_told_how_to_open_a_draft(client, coalition, coordinator):
    coordinating = text(section(dashboard(client, coordinator), "coordinating-heading"))
    assert "No statement of your coalitions is open for signature" in coordinating
    assert "Review opening for signature" in coordinating


def test_staff_do_not_see_the_coordinators_section(client, statement, signer):
    assert 'id="coordinating-heading"' not in dashboard(client, signer)


def test_the_ukrainian_dashboard_is_translated(client, statement, signer, coordinator):
    for person in (signer, coordinator):
        person.language = "uk"
        person.save(update_fields=["language"])
    client.force_login(signer)
    page = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "Чекають на відповідь" in page and "Підписати" in page
    client.force_login(coordinator)
    page = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "Відкриті для підписання в моїх коаліціях" in page


# Queries ------------------------------------------------------------------------------------------


def make_open_statements(coalition, coordinator, signer, member_org, count):
    for n in range(count):
        statement = make_statement(coalition, by=coordinator, status="open", title=f"Statement {n}")
        other = MembershipFactory(coalition=coalition).organisation
        OrganisationRoleFactory(organisation=other, can_sign=True)
        OrganisationRoleFactory(user=signer, organisation=other, can_sign=True)
        sign(statement, signer, member_org)
        Comment.objects.create(statement=make_statement(coalition, by=signer, title=f"Draft {n}"),
                               revision=statement.current_revision, author=signer, body="A comment.")


@pytest.mark.parametrize("who", ["signer", "coordinator"])
def test_the_dashboard_takes_the_same_number_of_queries_however_much_there_is(
        client, coalition, coordinator, signer, member_org, who):
    user = {"signer": signer, "coordinator": coordinator}[who]
    client.force_login(user)
    make_open_statements(coalition, coordinator, signer, member_org, 1)
    client.get(reverse("dashboard"))  # sessions, caches and content types settle
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("dashboard")).status_code == 200
    make_open_statements(coalition, coordinator, signer, member_org, 4)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("dashboard")).content.decode()
    assert page.count("Statement 3") >= 1
    assert len(many.captured_queries) == len(few.captured_queries), "\n".join(q["sql"] for q in many.captured_queries)


def test_the_selectors_ask_a_fixed_number_of_queries(coalition, coordinator, signer, member_org, django_assert_num_queries):
    make_open_statements(coalition, coordinator, signer, member_org, 3)
    with django_assert_num_queries(7):
        mine = dashboards.my_organisations_statements(signer)
    assert len(mine.waiting) == 3
    with django_assert_num_queries(6):
        coordinating = dashboards.coordinated_statements(coordinator)
    assert [item.signed for item in coordinating.open] == [1, 1, 1]
    with django_assert_num_queries(1):
        assert len(dashboards.drafts_for_me(signer)) == 3
