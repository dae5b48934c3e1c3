"""Hostile text in a statement, its comments and its signatories runs nothing in a real browser:
no dialog opens, no element carries an event handler, and the text reads as it was typed."""

import pytest
from django.utils import timezone

from statements import services
from statements.services import cosigning
from statements.models import Signature
from tests import factories
from tests.browser.conftest import sign_in
from tests.helpers import PAYLOADS

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Title <img src=x onerror=alert(1)> <svg onload=alert(2)> </title><script>alert(3)</script>"
SUMMARY = 'Summary "><img src=x onerror=alert(4)> <b><i'
# (An unclosed <style> in the body makes the sanitiser drop everything after it: this comes first.)
TEMPLATE_LIKE = '{{ 7*7 }} {% now "Y" %}'
BODY = "\n\n".join(["Body", TEMPLATE_LIKE] + PAYLOADS + [f"- {payload}" for payload in PAYLOADS])
COMMENT = "\n".join(PAYLOADS)
ORGANISATION = "Org <img src=x onerror=alert(5)>"
INDIVIDUAL = "Person <script>alert(6)</script>"
AFFILIATION = "<details open ontoggle=alert(7)>"

# What the page holds that no escaped text could make: handlers, scripts, frames, inline SVG, styles.
FIND_ACTIVE_MARKUP = """() => {
  const found = [];
  for (const element of document.querySelectorAll('*')) {
    for (const attribute of element.attributes) {
      const value = attribute.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
      if (attribute.name.startsWith('on')) found.push(`${element.tagName} ${attribute.name}`);
      if (['href', 'src', 'action', 'formaction', 'data'].includes(attribute.name)
          && /^(javascript|vbscript|data):/.test(value)) found.push(`${element.tagName} ${attribute.name}=${value}`);
    }
  }
  for (const element of document.querySelectorAll('script, iframe, object, embed, svg, math, style, frame')) {
    if (!(element.tagName === 'SCRIPT' && (element.getAttribute('src') || '').startsWith('/static/'))) {
      found.push(element.outerHTML.slice(0, 120));
    }
  }
  return found;
}"""


@pytest.fixture
def hostile_statements(coalition, coordinator, member_org, signer, staff):
    member_org.name = ORGANISATION
    member_org.save()
    draft = services.create_draft(coalition, by=staff, draft=services.Draft(TITLE, SUMMARY, BODY), language="en",
                                  slug="hostile-draft")
    services.add_comment(draft, by=staff, body=COMMENT)
    published = factories.make_statement(coalition, by=staff, coordinator=coordinator, status="open",
                                         title=TITLE, summary=SUMMARY, body=BODY, allows_individuals=True,
                                         slug="hostile-published")
    revision = published.signed_revision
    cosigning.sign_for_organisation(published, by=signer, organisation=member_org, sha256=revision.sha256)
    Signature.objects.create(statement=published, revision=revision, sha256=revision.sha256,
                             kind=Signature.Kind.INDIVIDUAL, name=INDIVIDUAL, affiliation=AFFILIATION,
                             email="person@example.org", confirmed_at=timezone.now())
    services.close_signing(published, by=coordinator)
    services.publish(published, by=coordinator)  # the PDF is made at commit (tasks run in-process)
    return {"draft": draft, "published": published}


def visit(page, url: str, dialogs: list[str]) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # a handler on a loaded element (svg onload, details ontoggle) has fired by now
    assert dialogs == [], f"{url} opened dialogs: {dialogs}"
    assert page.evaluate(FIND_ACTIVE_MARKUP) == [], url
    assert page.locator("[onerror]").count() == 0


def watch_dialogs(page) -> list[str]:
    dialogs: list[str] = []

    def seen(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", seen)
    return dialogs


def test_public_statement_page_with_hostile_text_runs_nothing(new_page, steps, hostile_statements):
    page = new_page()
    dialogs = watch_dialogs(page)

    visit(page, "/statements/hostile-published/", dialogs)

    assert page.get_by_role("heading", name=TITLE).is_visible()
    assert page.get_by_text(SUMMARY).first.is_visible()
    assert page.get_by_text(ORGANISATION).first.is_visible()
    assert page.get_by_text(INDIVIDUAL).first.is_visible()
    # The body is Markdown whose markup is sanitised away; the rest of it reads as typed.
    body = page.locator(".statement-body").first.inner_text()
    assert '{% now "Y" %}' in body and "{{ 7" in body and "49" not in body  # not a template either
    steps.shot(page, "published statement with hostile text")
    visit(page, "/statements/", dialogs)
    assert page.get_by_text(TITLE).first.is_visible()


def test_draft_page_with_hostile_text_runs_nothing_for_its_editors(new_page, steps, hostile_statements, staff):
    page = new_page()
    dialogs = watch_dialogs(page)
    sign_in(page, staff.email, factories.PASSWORD)

    visit(page, "/statements/hostile-draft/", dialogs)
    assert page.get_by_role("heading", name=TITLE).is_visible()
    assert page.get_by_text("</textarea><script>alert(1)</script>").first.is_visible()  # in the comment
    steps.shot(page, "draft with hostile text and comment")

    visit(page, "/statements/hostile-draft/edit/", dialogs)
    assert page.get_by_label("Title").input_value() == TITLE
    assert page.get_by_label("Text", exact=True).input_value() == BODY
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.evaluate(FIND_ACTIVE_MARKUP) == []
    steps.shot(page, "preview of hostile text")
    visit(page, "/dashboard/", dialogs)


def test_the_check_finds_hostile_markup_that_was_not_escaped(browser):
    context = browser.new_context()
    page = context.new_page()
    dialogs = watch_dialogs(page)
    page.set_content(f"<h1>{TITLE}</h1><p>{SUMMARY}</p><p>{AFFILIATION}</p>")
    page.wait_for_timeout(300)
    found = page.evaluate(FIND_ACTIVE_MARKUP)
    context.close()
    assert dialogs  # without escaping (and without a Content-Security-Policy) the payloads run
    assert any("onerror" in item for item in found) and any("ONTOGGLE" in item.upper() for item in found)
