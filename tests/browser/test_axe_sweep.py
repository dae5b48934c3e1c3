"""Issue 16's acceptance: axe-core (the vendored current release, `tests/browser/axe.py`) finds no
violations on the sign-in page and on every page a signed-in coordinator, signer and drafter use,
at 390 and 1280 px, in English and Ukrainian. One browser; one context per person and language,
signed in once (the coordinator through the two-factor code step); each page is loaded, then
checked at both widths. Every violation found is listed (page, width, language, rule, target)
before the test fails."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from coalition.models import User
from statements import services
from statements.services import cosigning
from statements.models import Comment, Statement
from statements.services import Draft
from tests import factories
from tests.browser.axe import axe, violations
from tests.factories import make_statement

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WIDTHS = (390, 1280)
LANGUAGES = ("en", "uk")


@pytest.fixture
def people_and_statements(coalition, coordinator):
    """A coordinator (enrolled in TOTP), a signer and a drafter of Truth Hounds; the drafter's draft
    in two revisions with a comment; an open statement the signer's organisation signed, closing
    in 30 hours; a closed one to publish; a published one; a member nobody may sign for."""
    hounds = factories.MembershipFactory(coalition=coalition, organisation__name="Truth Hounds").organisation
    factories.MembershipFactory(coalition=coalition, organisation__name="Crimean Human Rights Group")
    signer = factories.OrganisationRoleFactory(organisation=hounds, can_sign=True, user__email="s@example.org").user
    drafter = factories.OrganisationRoleFactory(organisation=hounds, can_sign=False, user__email="d@example.org").user
    draft = make_statement(coalition, by=drafter, title="On deported children", summary="Return them.",
                           body="Children were *deported* from Kherson.")
    services.save_revision(draft, by=drafter, based_on=draft.current_revision,
                           draft=Draft("On deported children", "Return them.",
                                       "Children were *deported* from Kherson and Mariupol.\n\n- one\n- two"))
    draft.refresh_from_db()
    Comment.objects.create(statement=draft, revision=draft.current_revision, author=signer, body="Check the date.")
    open_one = make_statement(coalition, by=coordinator, status="open", title="Free the hostages",
                              allows_individuals=True)
    Statement.objects.filter(pk=open_one.pk).update(deadline=timezone.now() + timedelta(hours=30))
    cosigning.sign_for_organisation(open_one, by=signer, organisation=hounds, sha256=open_one.signed_revision.sha256)
    closed = make_statement(coalition, by=coordinator, status="closed", title="Closed, to publish")
    published = make_statement(coalition, by=coordinator, status="published", title="Про вибори", language="uk",
                               body="Вибори неможливі під окупацією.")
    return {"coordinator": coordinator, "signer": signer, "drafter": drafter, "draft": draft, "open": open_one,
            "closed": closed, "published": published}


def pages_for(role: str, work: dict, coalition) -> list[str]:
    draft, open_one, closed, published = work["draft"], work["open"], work["closed"], work["published"]
    public = ["/", "/statements/", published.get_absolute_url()]
    mine = ["/dashboard/", draft.get_absolute_url(), f"/statements/{draft.slug}/edit/",
            f"/statements/{draft.slug}/diff/", open_one.get_absolute_url()]
    if role == "anonymous":
        return ["/accounts/login/", *public, open_one.get_absolute_url(), f"/statements/{open_one.slug}/sign/"]
    if role == "coordinator":
        return ["/accounts/2fa/", "/accounts/2fa/recovery-codes/", *mine,
                f"/statements/{draft.slug}/revisions/", f"/statements/{open_one.slug}/roster/",
                f"/coalitions/{coalition.slug}/people/", f"/statements/{open_one.slug}/events/",
                f"/statements/{draft.slug}/review/open/", f"/statements/{open_one.slug}/review/close/",
                f"/statements/{closed.slug}/review/publish/", f"/statements/{closed.slug}/review/reopen/",
                f"/statements/{open_one.slug}/review/withdraw/", f"/statements/{published.slug}/review/correct/",
                closed.get_absolute_url(), f"/statements/{open_one.slug}/signatories/",
                f"/statements/{draft.slug}/translations/uk/", "/statements/new/",
                f"/coalitions/{coalition.slug}/", f"/coalitions/{coalition.slug}/invitations/",
                f"/coalitions/{coalition.slug}/look/", f"/coalitions/{coalition.slug}/outbox/",
                "/organisations/", "/accounts/notifications/", "/accounts/time-zone/", *public]
    return [*mine, "/statements/new/", "/accounts/notifications/", "/accounts/time-zone/", *public]


class Findings:
    def __init__(self):
        self.lines: list[str] = []
        self.checked = 0

    def check(self, page, where: str) -> None:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            self.checked += 1
            self.lines += [f"{where} at {width} px: {line}" for line in violations(page)]


def visit(page, url: str, findings: Findings, where: str) -> None:
    response = page.goto(url)
    assert response.status == 200, f"{where}: {url} answered {response.status}"
    findings.check(page, f"{where} {url}")


def sign_in(page, user, findings: Findings, language: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(factories.PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    if "/accounts/2fa/authenticate/" in page.url:
        findings.check(page, f"{language} two-factor code step")
        page.locator("input[name=code]").fill(factories.totp_code(user))
        with page.expect_navigation():
            page.locator("input[name=code]").press("Enter")
    assert page.url.endswith("/dashboard/"), page.url


def refused_sign_in(page, findings: Findings, language: str) -> None:
    """The sign-in page again with its error, after a wrong password."""
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill("nobody@example.org")
    page.locator("input[name=password]").fill("not the password")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert "/accounts/login/" in page.url
    findings.check(page, f"{language} anonymous sign-in refused")


def refused_form(page, url: str, form: str, findings: Findings, where: str, clear: str = "") -> None:
    """A page again with its form's errors, after the form is sent with a field left empty."""
    page.goto(url)
    if clear:
        page.locator(f"{form} {clear}").fill("")
    with page.expect_navigation():
        page.locator(f"{form} button[type=submit]").last.click()
    assert page.locator(".errorlist, .form-errors, [role=alert]").count(), f"{where}: {url} showed no error"
    findings.check(page, f"{where} {url} refused")


def test_axe_core_finds_no_violations_on_any_page_of_any_role(browser, live_server, coalition,
                                                             people_and_statements):
    work = people_and_statements
    findings = Findings()
    started = time.monotonic()
    for language in LANGUAGES:
        for role in ("anonymous", "coordinator", "signer", "drafter"):
            context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
            context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
            context.set_default_timeout(15_000)
            page = context.new_page()
            try:
                if role == "anonymous":
                    refused_sign_in(page, findings, language)
                else:
                    user = work[role]
                    User.objects.filter(pk=user.pk).update(language=language)
                    sign_in(page, user, findings, language)
                for url in pages_for(role, work, coalition):
                    visit(page, url, findings, f"{language} {role}")
                    assert page.locator("html").get_attribute("lang") == language
                if role == "anonymous":
                    refused_form(page, f"/statements/{work['open'].slug}/sign/", "form[action$='#individual']",
                                 findings, f"{language} {role}")
                if role == "drafter":
                    refused_form(page, f"/statements/{work['draft'].slug}/edit/", "main form.wide", findings,
                                 f"{language} {role}", clear="[name=title]")
            finally:
                context.close()
    seconds = time.monotonic() - started
    print(f"axe-core checked {findings.checked} page views in {seconds:.0f} s")
    assert not findings.lines, f"{len(findings.lines)} violations:\n" + "\n".join(findings.lines)


def test_the_rules_include_the_24_px_touch_targets_of_wcag_2_2(browser):
    """target-size is off in axe-core's defaults; the shared options switch it on."""
    page = browser.new_page()
    try:
        page.set_content('<html lang="en"><title>t</title><main><h1>Links</h1><p>'
                         '<button style="width:12px;height:12px;padding:0">a</button>'
                         '<button style="width:12px;height:12px;padding:0">b</button></p></main></html>')
        assert [line.split(" ")[0] for line in violations(page)] == ["target-size", "target-size"]
        assert axe().run(page).response["testEngine"]["version"] == "4.14.1"
    finally:
        page.close()
