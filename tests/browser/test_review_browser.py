"""The coordinator's review step in a real browser: each irreversible step shows what it will do
first and nothing happens until it is confirmed there; a closed statement is reopened and a
deadline moved, both audited. Each review page passes axe-core."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from coalition import audit
from coalition.models import OutboundEmail

from statements import services
from statements.models import Statement
from statements.services import cosigning
from statements.services import Draft
from tests import factories
from tests.browser.axe import assert_no_violations
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def click_and_wait(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def no_axe_violations(page) -> None:
    assert_no_violations(page)


def local(delta: timedelta) -> str:
    return (timezone.localtime() + delta).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def coalition_of_four(settings, tmp_path):
    """Four members: two with someone who may sign, two with nobody; and a coordinator."""
    settings.MEDIA_ROOT = tmp_path / "media"
    coalition = factories.CoalitionFactory(name="Ukraine 5AM Coalition", slug="ukraine-5am")
    organisations = [factories.MembershipFactory(coalition=coalition, organisation__name=name).organisation
                     for name in ("Truth Hounds", "ZMINA", "Crimean Human Rights Group", "Almenda")]
    signers = [factories.OrganisationRoleFactory(organisation=o, can_sign=True).user for o in organisations[:2]]
    coordinator = factories.CoordinatorFactory(coalition=coalition, user__name="Oksana Coordinator").user
    return {"coalition": coalition, "organisations": organisations, "signers": signers, "coordinator": coordinator}


@pytest.fixture
def coordinator_page(new_page, coalition_of_four):
    page = new_page()
    sign_in(page, coalition_of_four["coordinator"].email, factories.PASSWORD)
    return page


def test_opening_shows_the_recipient_count_and_nothing_happens_until_confirmed(
        coordinator_page, coalition_of_four, steps):
    start = coalition_of_four
    statement = factories.make_statement(start["coalition"], by=start["coordinator"], title="Free the journalists")
    page = coordinator_page
    page.goto(statement.get_absolute_url())
    page.get_by_label("Signing deadline").fill(local(timedelta(days=7)))
    click_and_wait(page, page.get_by_role("button", name="Review opening for signature"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Review: open for signature")
    consequences = page.get_by_role("region", name="What will happen")
    expect(consequences).to_contain_text("3 emails are sent:")  # two signers and the coordinator
    expect(consequences).to_contain_text("2 people who may sign for an organisation")
    expect(consequences).to_contain_text("1 coordinator")
    warnings = page.get_by_role("region", name="1 warning")
    expect(warnings).to_contain_text("Nobody may sign for 2 member organisations")
    expect(warnings).to_contain_text("Crimean Human Rights Group")
    steps.shot(page, "open review")
    no_axe_violations(page)

    # Looking, and confirming without the acknowledgement, change nothing.
    statement.refresh_from_db()
    assert statement.status == "draft" and not OutboundEmail.objects.exists()
    click_and_wait(page, page.get_by_role("button", name="Confirm: open for signature"))
    expect(page.get_by_role("alert")).to_contain_text("tick “I have read the warnings”")
    statement.refresh_from_db()
    assert statement.status == "draft" and not OutboundEmail.objects.exists()
    steps.shot(page, "open refused without the acknowledgement")

    page.get_by_label("I have read the warnings").check()
    click_and_wait(page, page.get_by_role("button", name="Confirm: open for signature"))
    expect(page.get_by_text("The statement is open for signature.")).to_be_visible()
    statement.refresh_from_db()
    assert statement.status == "open" and statement.deadline is not None
    assert OutboundEmail.objects.filter(kind="statement_opened").count() == 3


def test_publishing_warns_about_the_stale_translation_and_the_unresolved_comment(
        coordinator_page, coalition_of_four, steps):
    start = coalition_of_four
    coordinator, signer = start["coordinator"], start["signers"][0]
    statement = factories.make_statement(start["coalition"], by=coordinator, title="Stop the deportations",
                                         body="Children were deported.")
    first = statement.current_revision
    services.add_translation(statement, by=coordinator, language="uk", based_on=None, translation_of=first,
                             draft=Draft("Зупиніть депортації", "", "Дітей депортували."))
    services.save_revision(statement, by=coordinator, based_on=first,
                           draft=Draft("Stop the deportations", "", "Thousands of children were deported."))
    services.add_comment(statement, by=signer, body="The number will change after Friday's call.")
    services.open_for_signature(statement, by=coordinator, deadline=None)
    statement.refresh_from_db()
    cosigning.sign_for_organisation(statement, by=signer, organisation=start["organisations"][0],
                                    sha256=statement.signed_revision.sha256)
    services.close_signing(statement, by=coordinator)

    page = coordinator_page
    page.goto(statement.get_absolute_url())
    click_and_wait(page, page.get_by_role("button", name="Review publishing"))
    review_url = page.url
    warnings = page.get_by_role("region", name="3 warnings")
    expect(warnings).to_contain_text("1 translation is out of date and will be left out of the PDF")
    expect(warnings.get_by_role("link", name="Ukrainian")).to_be_visible()
    expect(warnings).to_contain_text("1 comment is not resolved")
    expect(warnings).to_contain_text("The number will change after Friday's call.")
    expect(warnings).to_contain_text("Only 1 of 4 member organisations signed.")
    steps.shot(page, "publish review")
    no_axe_violations(page)

    click_and_wait(page, page.get_by_role("button", name="Confirm: publish"))
    expect(page.get_by_role("alert")).to_contain_text("Nothing was done")
    statement.refresh_from_db()
    assert statement.status == "closed" and not statement.publications.exists()

    # The comment's link leads to it on the statement page; the coordinator comes back and confirms.
    page.locator(".review-warnings a[href*='#comment-']").click()
    page.wait_for_load_state()
    expect(page.locator(":target")).to_contain_text("The number will change")
    page.goto(review_url)
    page.get_by_label("I have read the warnings").check()
    page.set_default_timeout(60_000)  # the PDF is made in-process before the answer
    click_and_wait(page, page.get_by_role("button", name="Confirm: publish"))
    expect(page.get_by_text("The statement is published", exact=False).first).to_be_visible()
    statement.refresh_from_db()
    assert statement.status == "published"


def test_a_closed_statement_is_reopened_and_its_deadline_moved_both_audited(
        coordinator_page, coalition_of_four, steps):
    start = coalition_of_four
    coordinator = start["coordinator"]
    statement = factories.make_statement(start["coalition"], by=coordinator, status="closed", title="Protect the ZNPP")
    Statement.objects.filter(pk=statement.pk).update(deadline=timezone.now() - timedelta(hours=1))
    page = coordinator_page

    # Reopening needs a new deadline once the old one has passed: the review says so.
    page.goto(statement.get_absolute_url())
    click_and_wait(page, page.get_by_role("button", name="Review reopening"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Review: reopen for signature")
    steps.shot(page, "reopen review")
    no_axe_violations(page)
    page.get_by_label("I have read the warnings").check()
    click_and_wait(page, page.get_by_role("button", name="Confirm: reopen for signature"))
    expect(page.get_by_role("alert").first).to_contain_text("give a new one")
    statement.refresh_from_db()
    assert statement.status == "closed"

    page.get_by_label("New signing deadline").fill(local(timedelta(days=3)))
    page.get_by_label("I have read the warnings").check()
    click_and_wait(page, page.get_by_role("button", name="Confirm: reopen for signature"))
    expect(page.get_by_text("The statement is open for signature again.")).to_be_visible()
    statement.refresh_from_db()
    assert statement.status == "open"
    assert audit.events_for(statement).filter(action="statement.reopened", actor=coordinator).exists()
    assert OutboundEmail.objects.filter(dedupe_key__startswith=f"statement-reopened:{statement.pk}:").count() == 3

    # The deadline is moved from the statement page; a time in the past is refused with the reason.
    form = page.locator("#deadline-form")
    form.get_by_label("New signing deadline").fill(local(-timedelta(days=1)))
    click_and_wait(page, form.get_by_role("button", name="Move the deadline"))
    expect(page.locator("#deadline-form")).to_contain_text("must be in the future")
    page.locator("#deadline-form").get_by_label("New signing deadline").fill(local(timedelta(days=10)))
    click_and_wait(page, page.locator("#deadline-form").get_by_role("button", name="Move the deadline"))
    expect(page.get_by_text("The signing deadline is moved")).to_be_visible()
    steps.shot(page, "deadline moved")
    event = audit.events_for(statement).get(action="statement.deadline_moved")
    assert event.data["previous_deadline"] and event.data["deadline"] != event.data["previous_deadline"]
    assert OutboundEmail.objects.filter(dedupe_key__startswith=f"deadline-moved:{statement.pk}:").count() == 3

    page.goto(f"/statements/{statement.slug}/events/")
    expect(page.locator("ol.events")).to_contain_text("for signature")
    expect(page.locator("ol.events")).to_contain_text("moved the signing deadline")
