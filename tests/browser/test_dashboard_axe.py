"""axe-core finds no violations on the pages a signed-in coordinator, signer and drafter use to see
what to do next: the dashboard of each, the roster (also right after "Remind all", its message in
the form) and the people page (also right after an action, its message in the organisation), at
1280 and 390 px, in English and Ukrainian."""

from datetime import timedelta

import pytest
from django.utils import timezone

from coalition.models import User
from statements.services import cosigning
from statements.models import Comment, Statement
from tests import factories
from tests.browser.axe import axe
from tests.browser.conftest import sign_in
from tests.factories import make_statement

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def work(coalition, coordinator):
    """An open statement closing in 30 hours that one of the signer's two organisations signed,
    a member nobody may sign for, a draft with a comment, and a closed statement to publish."""
    hounds = factories.MembershipFactory(coalition=coalition, organisation__name="Truth Hounds").organisation
    zmina = factories.MembershipFactory(coalition=coalition, organisation__name="ZMINA").organisation
    factories.MembershipFactory(coalition=coalition, organisation__name="Almenda")
    signer = factories.OrganisationRoleFactory(organisation=hounds, can_sign=True, user__email="s@example.org").user
    factories.OrganisationRoleFactory(user=signer, organisation=zmina, can_sign=True)
    drafter = factories.OrganisationRoleFactory(organisation=hounds, can_sign=False, user__email="d@example.org").user
    statement = make_statement(coalition, by=coordinator, status="open", title="Free the hostages")
    Statement.objects.filter(pk=statement.pk).update(deadline=timezone.now() + timedelta(hours=30))
    cosigning.sign_for_organisation(statement, by=signer, organisation=hounds, sha256=statement.signed_revision.sha256)
    draft = make_statement(coalition, by=signer, title="On deported children")
    Comment.objects.create(statement=draft, revision=draft.current_revision, author=signer, body="Check the date.")
    make_statement(coalition, by=coordinator, status="closed", title="Closed, to publish")
    return {"statement": statement, "signer": signer, "drafter": drafter, "coordinator": coordinator}


def no_violations(page, steps, name: str) -> None:
    steps.shot(page, name)
    results = axe().run(page)
    assert results.violations_count == 0, f"{page.url}:\n{results.generate_report()}"


def as_user(new_page, user, width: int, language: str):
    User.objects.filter(pk=user.pk).update(language="en")  # sign_in reads the English page
    page = new_page(width, 900)
    sign_in(page, user.email, factories.PASSWORD)
    User.objects.filter(pk=user.pk).update(language=language)  # the account's language from now on
    return page


@pytest.mark.parametrize("language", ["en", "uk"])
@pytest.mark.parametrize("width", [1280, 390])
def test_dashboards_roster_and_people_pages_have_no_axe_violations(new_page, steps, work, coalition, width, language):
    statement = work["statement"]
    for who in ("signer", "drafter"):
        page = as_user(new_page, work[who], width, language)
        page.goto("/dashboard/")
        no_violations(page, steps, f"dashboard {who}")

    page = as_user(new_page, work["coordinator"], width, language)
    page.goto("/dashboard/")
    no_violations(page, steps, "dashboard coordinator")
    page.goto(f"/statements/{statement.slug}/roster/")
    no_violations(page, steps, "roster")
    page.locator("#id_note").fill("Please answer by Friday.")
    with page.expect_navigation():
        page.locator("#remind-form button[type=submit]").last.click()
    assert "?reminded=all#remind-form" in page.url
    no_violations(page, steps, "roster after remind all")
    page.goto(f"/coalitions/{coalition.slug}/people/")
    no_violations(page, steps, "people")
    with page.expect_navigation():
        page.locator("form[action*='/withdraw-signing/'] button, form[action*='withdraw'] button").first.click()
    assert "?acted=" in page.url
    no_violations(page, steps, "people after an action")
