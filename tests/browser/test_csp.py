"""Pages work under the Content-Security-Policy: headless Chromium reports no violation on the
public pages, the sign-in and two-factor pages, a coordinator's pages and the admin."""

import pytest

from statements import services
from statements.services import cosigning
from tests import factories
from tests.browser.conftest import sign_in
from tests.factories import make_statement

pytestmark = pytest.mark.django_db(transaction=True)


class Watched:
    """A page whose console messages and uncaught errors are kept, to be checked after each visit."""

    def __init__(self, page):
        self.page = page
        self.messages: list[str] = []
        page.on("console", lambda message: self.messages.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.messages.append(f"error: {error}"))

    def visit(self, url: str, steps, name: str, status: int = 200) -> None:
        response = self.page.goto(url)
        self.check(steps, name)
        assert response.status == status, url
        assert "script-src 'self'" in response.headers["content-security-policy"], url

    def check(self, steps, name: str) -> None:
        self.page.wait_for_load_state("load")
        steps.shot(self.page, name)
        violations = [m for m in self.messages if "Content Security Policy" in m or "Content-Security-Policy" in m]
        assert not violations, f"{self.page.url}:\n" + "\n".join(violations)


@pytest.fixture
def statements(coalition, coordinator, member_org, signer):
    published = make_statement(coalition, by=coordinator, status="open", title="On deported children",
                               body="Children were *deported*.", allows_individuals=True)
    cosigning.sign_for_organisation(published, by=signer, organisation=member_org,
                                    sha256=published.signed_revision.sha256)
    services.close_signing(published, by=coordinator)
    services.publish(published, by=coordinator)  # the PDF is made at commit (tasks run in-process)
    open_one = make_statement(coalition, by=coordinator, status="open", title="Open for signature",
                              allows_individuals=True)
    draft = make_statement(coalition, by=coordinator, title="A draft")
    return {"published": published, "open": open_one, "draft": draft}


def test_public_pages_have_no_csp_violations(new_page, steps, statements, member_org):
    page = Watched(new_page())
    published, open_one = statements["published"], statements["open"]
    page.visit("/", steps, "front page")
    page.visit("/statements/?q=children", steps, "archive search")
    page.visit("/", steps, "front page from the cache")
    page.visit(published.get_absolute_url(), steps, "statement page")
    page.visit(f"/statements/{open_one.slug}/sign/", steps, "sign form")
    page.visit(f"/verify/?statement={published.slug}", steps, "verify page")
    page.visit("/subscribe/", steps, "subscribe form")
    page.visit("/organisations/", steps, "organisations")
    page.visit(f"/organisations/{member_org.slug}/", steps, "organisation page")
    page.visit("/statements/no-such-statement/", steps, "not found", status=404)
    page.visit("/accounts/login/", steps, "sign-in page")
    page.visit("/accounts/password/reset/", steps, "password reset page")


def test_a_coordinators_pages_have_no_csp_violations(new_page, steps, statements, coalition, coordinator):
    page = Watched(new_page())
    sign_in(page.page, coordinator.email, factories.PASSWORD)  # through the sign-in and code pages
    page.check(steps, "signed in")
    page.visit("/dashboard/", steps, "dashboard")
    page.visit(statements["draft"].get_absolute_url(), steps, "draft with its coordinator forms")
    page.visit(f"/statements/{statements['draft'].slug}/edit/", steps, "edit form")
    page.visit(f"/statements/{statements['open'].slug}/roster/", steps, "roster")
    page.visit(f"/coalitions/{coalition.slug}/invitations/", steps, "invitations")
    page.visit("/accounts/2fa/", steps, "two-factor authentication")


def test_totp_enrolment_with_its_qr_code_has_no_csp_violations(new_page, steps, coalition):
    user = factories.CoordinatorFactory(coalition=coalition, totp=False).user
    page = Watched(new_page())
    sign_in(page.page, user.email, factories.PASSWORD)  # sent on to enrolment
    page.page.wait_for_url("**/accounts/2fa/totp/activate/")
    page.check(steps, "totp enrolment")
    qr_code = page.page.locator("img[src^='data:']")
    assert qr_code.count() == 1
    assert qr_code.evaluate("image => image.naturalWidth") > 0  # the data: image was allowed to load


def test_the_admin_has_no_csp_violations(new_page, steps, statements):
    operator = factories.UserFactory(is_staff=True, is_superuser=True)
    factories.enrol_totp(operator)
    page = Watched(new_page())
    sign_in(page.page, operator.email, factories.PASSWORD)
    page.visit("/admin/", steps, "admin index")
    page.visit("/admin/statements/statement/", steps, "admin statements")
    page.visit("/admin/coalition/organisation/", steps, "admin organisations")
    page.visit("/admin/coalition/auditevent/", steps, "admin audit log")


def test_an_inline_style_or_script_is_reported_and_fails_the_check(new_page, steps, db):
    """The check above would see a violation: the policy refuses what a template might add."""
    page = Watched(new_page())
    page.visit("/subscribe/", steps, "before")
    page.page.evaluate("""() => {
        document.body.insertAdjacentHTML("beforeend", '<p style="color: red">inline style</p>');
        const script = document.createElement("script");
        script.textContent = "window.inlineRan = true";
        document.body.appendChild(script);
    }""")
    assert page.page.evaluate("window.inlineRan") is None
    with pytest.raises(AssertionError, match="Content Security Policy"):
        page.check(steps, "after")
