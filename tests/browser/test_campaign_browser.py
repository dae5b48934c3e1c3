"""A campaign in a browser (issue 16): an anonymous visitor finds an open statement on the front
page, signs, confirms from the email and reaches the share step; its og:image is a PNG; the embed
page frames in a page served from an allowed origin and is refused from another."""

import io
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest
from playwright.sync_api import expect
from PIL import Image

from tests.browser.test_journey import click_and_wait, emailed_path
from tests.factories import make_statement

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Release the detained volunteers"
EMAIL = "taras@example.org"


@pytest.fixture
def petition(coalition, coordinator):
    return make_statement(coalition, by=coordinator, status="open", allows_individuals=True, title=TITLE,
                          summary="Add your name.")


def test_a_visitor_finds_signs_confirms_and_shares(new_page, steps, live_server, petition):
    page = new_page(390, 844)
    page.goto("/")
    section = page.get_by_role("region", name="Open for signature")
    expect(section.get_by_role("link", name=TITLE, exact=True)).to_be_visible()
    expect(section).to_contain_text("0 signatures")
    steps.shot(page, "front page lists the open statement")
    click_and_wait(page, section.get_by_role("link", name=re.compile(rf"^Sign\W+{TITLE}$")))
    form = page.get_by_role("region", name="Sign as an individual")
    form.get_by_label("Your name").fill("Taras Melnyk")
    form.get_by_label("Email address").fill(EMAIL)
    click_and_wait(page, form.get_by_role("button", name="Sign", exact=True))
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(emailed_path(EMAIL, "signature_confirmation", r"/statements/\S+/sign/confirm/\S+/"))
    click_and_wait(page, page.get_by_role("button", name="Confirm my signature"))
    share = page.get_by_role("region", name="Ask others to sign")
    expect(share).to_be_visible()
    address = share.get_by_label("The statement’s address")
    expect(address).to_have_value(live_server_address(petition))
    for name in ("Email", "Telegram", "WhatsApp", "Facebook", "X"):
        expect(share.get_by_role("link", name=name)).to_be_visible()
    expect(share.get_by_role("button", name="Copy")).to_be_visible()  # the script shows it
    steps.shot(page, "share step after confirming")

    page.goto(petition.get_absolute_url())
    image_url = page.locator('meta[property="og:image"]').get_attribute("content")
    png = urlopen(live_server.url + urlsplit(image_url).path).read()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (1200, 630)


def live_server_address(statement) -> str:
    from django.conf import settings

    return settings.SITE_URL + statement.get_absolute_url()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(html: str):
    """A page with `html` on another port of 127.0.0.1: another origin than the live server's."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_the_embed_page_frames_only_in_an_allowed_origin(browser, live_server, steps, coalition, petition):
    frame_html = (f'<!DOCTYPE html><title>Partner site</title><h1>Our campaign</h1>'
                  f'<iframe src="{live_server.url}/statements/{petition.slug}/embed/" title="Statement"'
                  f' width="400" height="260"></iframe>')
    allowed, other = _serve(frame_html), _serve(frame_html)
    try:
        coalition.embed_origins = [f"http://127.0.0.1:{allowed.server_port}"]
        coalition.save()
        context = browser.new_context(viewport={"width": 390, "height": 700})
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{allowed.server_port}/")
        frame = page.frame_locator("iframe")
        expect(frame.get_by_role("heading", name=TITLE)).to_be_visible()
        expect(frame.get_by_role("link", name="Sign this statement")).to_be_visible()
        steps.shot(page, "embed framed by an allowed origin")

        refused = []
        page.on("console", lambda message: refused.append(message.text))
        page.goto(f"http://127.0.0.1:{other.server_port}/")
        page.wait_for_timeout(1500)
        child = page.frames[1] if len(page.frames) > 1 else None
        assert child is None or TITLE not in (child.content() if child.url.startswith("http") else "")
        assert any("frame-ancestors" in text for text in refused), refused
        steps.shot(page, "embed refused in another origin")
        context.close()
    finally:
        allowed.shutdown()
        other.shutdown()


@pytest.mark.parametrize("width", [1280, 390])
def test_campaign_pages_have_no_axe_violations(new_page, steps, coalition, coordinator, petition, width):
    from tests.browser.axe import axe
    from tests.browser.conftest import sign_in
    from tests.factories import PASSWORD

    page = new_page(width, 900)
    for url in ("/", "/statements/?status=open", petition.get_absolute_url(), f"/statements/{petition.slug}/embed/"):
        page.goto(url)
        steps.shot(page, url)
        results = axe().run(page)
        assert results.violations_count == 0, f"{url}:\n{results.generate_report()}"
    sign_in(page, coordinator.email, PASSWORD)
    for url in (petition.get_absolute_url(), f"/coalitions/{coalition.slug}/embedding/"):
        page.goto(url)
        steps.shot(page, url)
        results = axe().run(page)
        assert results.violations_count == 0, f"{url}:\n{results.generate_report()}"
