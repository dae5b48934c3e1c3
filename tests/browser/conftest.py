"""Headless Chromium (Debian's, at /usr/bin/chromium) driven by Playwright against a live server.

Screenshots of each step are saved under test-output/browser/<test name>/.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test's thread; the test's own database calls
# are still synchronous, so Django's async-safety guard is lifted for these tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "browser"


@pytest.fixture(scope="session")
def browser():
    from tests.conftest import need_service

    need_service(f"Chromium at {CHROMIUM}", shutil.which(CHROMIUM) is not None)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


class Steps:
    """Takes a numbered full-page screenshot per step of a journey."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.count = 0
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    def shot(self, page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def steps(request) -> Steps:
    return Steps(OUTPUT / re.sub(r"[^A-Za-z0-9_]+", "_", request.node.name))


def sign_in(page, email: str, password: str) -> None:
    """Sign in through allauth's form; when the next page asks for the authentication code, enter
    the code the user's authenticator app would show now (computed from their TOTP secret)."""
    from allauth.mfa.totp.internal.auth import TOTP
    from django.core.cache import cache
    from playwright.sync_api import expect

    from coalition.models import User
    from tests.factories import totp_code

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if "/accounts/2fa/authenticate/" in page.url:  # the code step (enrolment also has a code field)
        user = User.objects.get(email__iexact=email)
        code = totp_code(user)
        # allauth refuses a code used once already; a test may sign one person in twice a period.
        cache.delete(TOTP(user.authenticator_set.get(type="totp"))._get_used_cache_key(code))
        page.locator("input[name=code]").fill(code)
        page.locator("input[name=code]").press("Enter")
        page.wait_for_load_state()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture
def new_page(browser, live_server):
    contexts = []

    def make(width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
