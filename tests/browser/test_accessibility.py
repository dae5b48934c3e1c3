"""axe-core finds no accessibility violations on the public pages, in headless Chromium, and the
archive's search works with the keyboard alone."""

import pytest

from statements import services
from statements.services import cosigning
from tests import factories
from tests.browser.axe import AXE_CORE_VERSION, AXE_FILE, axe
from tests.browser.conftest import sign_in
from tests.factories import make_statement

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def public_statements(coalition, coordinator, member_org, signer):
    published = make_statement(coalition, by=coordinator, status="open", title="On deported children",
                               summary="The coalition calls for their return.", body="Children were *deported*.",
                               allows_individuals=True)
    cosigning.sign_for_organisation(published, by=signer, organisation=member_org,
                                    sha256=published.signed_revision.sha256)
    services.close_signing(published, by=coordinator)
    services.publish(published, by=coordinator)  # the PDF is made at commit (tasks run in-process)
    make_statement(coalition, by=coordinator, status="published", title="Про вибори", language="uk",
                   body="Вибори неможливі під окупацією.")
    open_one = make_statement(coalition, by=coordinator, status="open", title="Open for signature",
                              allows_individuals=True)
    factories.MembershipFactory(coalition=coalition)
    return {"published": published, "open": open_one}


def check(page, url: str, steps, name: str) -> None:
    page.goto(url)
    steps.shot(page, name)
    results = axe().run(page)
    assert results.violations_count == 0, f"{url}:\n{results.generate_report()}"


def check_here(page, steps, name: str) -> None:
    """`check` without loading the page again (which would drop its one-time messages)."""
    steps.shot(page, name)
    results = axe().run(page)
    assert results.violations_count == 0, f"{page.url}:\n{results.generate_report()}"


@pytest.mark.parametrize("width", [1280, 390])
def test_public_pages_have_no_axe_violations(new_page, steps, public_statements, width):
    page = new_page(width, 900)
    published, open_one = public_statements["published"], public_statements["open"]
    check(page, "/", steps, "front page")
    check(page, "/statements/?q=children&lang=en", steps, "archive with a search")
    check(page, "/statements/?year=x", steps, "archive with a bad filter")
    check(page, published.get_absolute_url(), steps, "statement page")
    check(page, f"/statements/{open_one.slug}/sign/", steps, "sign form")
    check(page, "/verify/", steps, "verify page")
    check(page, f"/verify/?statement={published.slug}", steps, "verify page for a statement")
    check(page, "/subscribe/", steps, "subscribe form")


def test_the_archive_is_searched_with_the_keyboard_alone(new_page, steps, public_statements):
    page = new_page()
    page.goto("/")
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "q":
            break
    else:
        pytest.fail("Tab never reached the search box")
    page.keyboard.type("deported")
    page.keyboard.press("Enter")
    page.wait_for_url("**/statements/?q=deported*")
    steps.shot(page, "searched by keyboard")
    assert page.get_by_role("link", name="On deported children").is_visible()
    assert page.get_by_role("link", name="Про вибори").count() == 0


def test_a_coordinator_enrols_in_two_factor_authentication_on_pages_without_axe_violations(new_page, steps, coalition):
    user = factories.CoordinatorFactory(coalition=coalition, totp=False).user
    page = new_page()
    sign_in(page, user.email, factories.PASSWORD)
    # Straight from sign-in to enrolment, without typing the password a second time.
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    assert page.get_by_text("must protect their account with two-factor authentication").is_visible()
    check_here(page, steps, "asked to enrol, with the key")
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(factories.current_totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url("**/accounts/2fa/recovery-codes/")
    check_here(page, steps, "recovery codes")
    page.goto("/dashboard/")
    assert page.url.endswith("/dashboard/")

    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    check(page, page.url, steps, "the code step of signing in")


def test_the_vendored_axe_core_is_the_pinned_release():
    assert AXE_FILE.read_text(encoding="utf-8").startswith(f"/*! axe v{AXE_CORE_VERSION}\n")


@pytest.mark.parametrize("language", ["en", "uk"])
@pytest.mark.parametrize("width", [390, 1280])
def test_sign_in_two_factor_and_events_pages_have_no_axe_violations(new_page, steps, coalition, member_org, signer,
                                                                   language, width):
    """The pages a coordinator passes through to sign in and manage two-factor authentication, and
    the Events page, in both languages at a phone's and a desktop's width."""
    coordinator = factories.CoordinatorFactory(coalition=coalition, user__language=language).user
    statement = make_statement(coalition, by=coordinator, status="open", title="On deported children")
    cosigning.sign_for_organisation(statement, by=signer, organisation=member_org,
                                    sha256=statement.signed_revision.sha256)
    page = new_page(width, 900)
    page.goto("/")
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.url}])
    check(page, "/accounts/login/", steps, f"sign in {language} {width}")
    page.locator("input[name=login]").fill(coordinator.email)
    page.locator("input[name=password]").fill(factories.PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    assert page.locator("html").get_attribute("lang") == language
    check_here(page, steps, f"the code step {language} {width}")
    page.locator("input[name=code]").fill(factories.totp_code(coordinator))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url("**/dashboard/")
    check(page, "/accounts/2fa/", steps, f"two-factor overview {language} {width}")
    check(page, "/accounts/2fa/recovery-codes/", steps, f"recovery codes {language} {width}")
    check(page, "/accounts/2fa/recovery-codes/generate/", steps, f"new recovery codes {language} {width}")
    check(page, f"/statements/{statement.slug}/events/", steps, f"events {language} {width}")
    check(page, "/accounts/2fa/totp/deactivate/", steps, f"asked to confirm it is you {language} {width}")


@pytest.mark.parametrize("language", ["en", "uk"])
@pytest.mark.parametrize("width", [390, 1280])
def test_setting_up_the_authenticator_app_has_no_axe_violations(new_page, steps, coalition, language, width):
    user = factories.CoordinatorFactory(coalition=coalition, totp=False, user__language=language).user
    page = new_page(width, 900)
    page.goto("/")
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.url}])
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill(factories.PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    check_here(page, steps, f"set up the app {language} {width}")
    secret = page.locator("#authenticator_secret").input_value()
    page.locator("input[name=code]").fill(factories.current_totp_code(secret))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/accounts/2fa/recovery-codes/")
    check_here(page, steps, f"recovery codes after set-up {language} {width}")
