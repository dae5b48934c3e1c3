"""A coordinator invites a staff member, who joins through the emailed link."""

import re

import pytest
from django.core import mail

from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_invited_staff_member_joins_and_lands_signed_in_with_the_role(new_page, steps, coalition, member_org, coordinator):
    page = new_page()
    sign_in(page, coordinator.email, factories.PASSWORD)
    page.goto(f"/coalitions/{coalition.slug}/invitations/")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Send invitation").click()
    assert page.get_by_text("Enter a valid email address.").is_visible()
    steps.shot(page, "invitation form refuses a malformed address")

    page.get_by_label("Email address").fill("olha@example.org")
    page.get_by_label("Role").select_option("signer")
    page.get_by_label("Organisation").select_option(label=member_org.name)
    page.get_by_role("button", name="Send invitation").click()
    assert page.get_by_text("Invitation sent to olha@example.org.").is_visible()
    steps.shot(page, "invitation sent")

    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[-1].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    invitee = new_page(390, 844)
    invitee.goto("/" + path)
    steps.shot(invitee, "invitation opened on a phone")
    invitee.get_by_label("Your name").fill("Olha Shevchenko")
    invitee.get_by_label("Password", exact=True).fill("river-candle-77")
    invitee.get_by_label("Password (again)").fill("river-candle-77")
    invitee.get_by_role("button", name="Create my account").click()
    assert invitee.get_by_text("Welcome. Your account is ready.").is_visible()
    assert invitee.get_by_text(member_org.name).first.is_visible()
    steps.shot(invitee, "signed in with the role")

    invitee.goto("/" + path)
    assert invitee.get_by_text("already been used").is_visible()
    steps.shot(invitee, "the link does not work twice")


def test_visitors_language_switch_works_without_javascript(browser, live_server, steps, coalition):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    page.goto("/")
    page.get_by_role("link", name="Українська").click()
    assert page.locator("html").get_attribute("lang") == "uk"
    assert page.get_by_role("heading", name="Коаліції").is_visible()
    steps.shot(page, "ukrainian")
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    context.close()
