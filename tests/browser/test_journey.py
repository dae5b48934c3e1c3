"""The whole journey in a real browser, through the site's own pages and buttons: a coordinator
invites a staff member, who joins and drafts; the coordinator opens the statement; two
organisations sign and one withdraws; an individual signs and confirms through the emailed link;
the coordinator publishes; a visitor finds the statement by search, downloads its PDF and
verifies it on /verify/.

Locally (SQLite, no broker) the PDF is made in-process when the publication commits. With
PostgreSQL and a Redis broker (CI) a real `celery worker` makes it, and the coordinator reloads
the page until it is ready, as a person would.
"""

import hashlib
import re
import time

import pytest
from django.db import connection
from playwright.sync_api import expect

from coalition.models import OutboundEmail
from statements.models import Publication, Statement
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Release the civilians held since Olenivka"
BODY = """Russia holds **thousands of Ukrainian civilians** without charge.

We call on the International Committee of the Red Cross to:

- visit every place of detention;
- publish the names of those it has seen.
"""
INDIVIDUAL_EMAIL = "mariia.kovalenko@example.net"


@pytest.fixture
def pdf_maker(request, settings, tmp_path, signing_identity):
    """Publishing's PDF task runs in-process at commit, or, with PostgreSQL and a broker, in a real
    worker that shares the test database, the media folder and the signing identity."""
    settings.MEDIA_ROOT = tmp_path / "media"
    if not (settings.CELERY_BROKER_URL and connection.vendor == "postgresql"):
        return "in-process"
    start_worker = request.getfixturevalue("start_worker")
    start_worker({
        "MEDIA_ROOT": str(settings.MEDIA_ROOT), "SIGNING_PKCS12_FILE": "",
        "SIGNING_KEY_FILE": str(signing_identity.signing_key), "SIGNING_CERT_FILE": str(signing_identity.signing_cert),
        "SIGNING_ROOT_CERT_FILE": str(signing_identity.root_cert), "SIGNING_TIMESTAMP_URL": "",
    })
    return "worker"


@pytest.fixture
def coalition_at_start():
    """What exists before the journey: a coalition of three member organisations, its
    coordinator, and a staff member with signing authority at the second organisation."""
    coalition = factories.CoalitionFactory(name="Ukraine 5AM Coalition", slug="ukraine-5am")
    names = ["Kharkiv Human Rights Protection Group", "Truth Hounds", "Crimean Human Rights Group"]
    organisations = [factories.MembershipFactory(coalition=coalition, organisation__name=name).organisation
                     for name in names]
    coordinator = factories.CoordinatorFactory(coalition=coalition, user__name="Oksana Coordinator").user
    second_signer = factories.OrganisationRoleFactory(organisation=organisations[1], can_sign=True,
                                                      user__name="Roman Avramenko").user
    return {"coalition": coalition, "organisations": organisations, "coordinator": coordinator,
            "second_signer": second_signer}


def emailed_path(recipient: str, kind: str, path: str) -> str:
    """The link to `path` (a regular expression) in the newest email of `kind` to `recipient`,
    as a path on the live server: emails name SITE_URL, not the test server's address."""
    email = OutboundEmail.objects.filter(recipient=recipient, kind=kind).latest("id")
    return re.search(rf"https?://[^/\s]+({path})", email.body_text).group(1)


def click_and_wait(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def confirm_on_review(page, button: str) -> None:
    """On a coordinator's review page: acknowledge the warnings, if any, and confirm."""
    acknowledge = page.get_by_label("I have read the warnings")
    if acknowledge.count():
        acknowledge.check()
    click_and_wait(page, page.get_by_role("button", name=button))


def test_the_whole_journey_from_invitation_to_a_verified_pdf(new_page, steps, coalition_at_start, pdf_maker, tmp_path):
    start = coalition_at_start
    first_org, second_org, silent_org = start["organisations"]

    # 1. The coordinator signs in (with the authenticator code) and invites a staff member of
    #    the first organisation, with signing authority.
    coordinator = new_page()
    sign_in(coordinator, start["coordinator"].email, factories.PASSWORD)
    main_nav = coordinator.get_by_role("navigation", name="Main")
    click_and_wait(coordinator, main_nav.get_by_role("link", name="Invitations"))
    expect(coordinator.get_by_role("heading", name="Invite staff to Ukraine 5AM Coalition")).to_be_visible()
    coordinator.get_by_label("Email address").fill("olha.shevchenko@example.org")
    coordinator.get_by_label("Role").select_option("signer")
    coordinator.get_by_label("Organisation").select_option(label=first_org.name)
    click_and_wait(coordinator, coordinator.get_by_role("button", name="Send invitation"))
    expect(coordinator.get_by_text("Invitation sent to olha.shevchenko@example.org.")).to_be_visible()
    expect(coordinator.get_by_role("row").filter(has_text="olha.shevchenko@example.org")).to_contain_text("pending")
    steps.shot(coordinator, "coordinator sent the invitation")

    # 2. The staff member follows the emailed link, joins, and drafts a statement in Markdown.
    drafter = new_page()
    drafter.goto(emailed_path("olha.shevchenko@example.org", "invitation", r"/invitations/\S+/"))
    expect(drafter.get_by_text(first_org.name).first).to_be_visible()
    steps.shot(drafter, "invitation opened")
    drafter.get_by_label("Your name").fill("Olha Shevchenko")
    drafter.get_by_label("Password", exact=True).fill("river-candle-77")
    drafter.get_by_label("Password (again)").fill("river-candle-77")
    click_and_wait(drafter, drafter.get_by_role("button", name="Create my account"))
    expect(drafter.get_by_text("Welcome. Your account is ready.")).to_be_visible()
    click_and_wait(drafter, drafter.get_by_role("link", name="My work"))
    expect(drafter.get_by_role("listitem").filter(has_text=first_org.name)).to_contain_text(
        "you may sign on its behalf")
    click_and_wait(drafter, drafter.get_by_role("link", name="Start a statement"))
    drafter.get_by_label("Title").fill(TITLE)
    drafter.get_by_label("Summary").fill("The coalition asks the ICRC to visit every detained civilian.")
    drafter.get_by_label("Text").fill(BODY)
    drafter.get_by_label("Individuals may sign too").check()
    click_and_wait(drafter, drafter.get_by_role("button", name="Preview"))
    expect(drafter.get_by_role("strong").filter(has_text="thousands of Ukrainian civilians")).to_be_visible()
    expect(drafter.get_by_label("Title")).to_have_value(TITLE)
    steps.shot(drafter, "draft previewed")
    click_and_wait(drafter, drafter.get_by_role("button", name="Save the draft"))
    expect(drafter.get_by_text("Draft saved.")).to_be_visible()
    expect(drafter.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(drafter.locator(".statement-body li")).to_have_count(2)
    steps.shot(drafter, "draft saved")
    statement_url = drafter.url.split("?")[0]

    # 3. The coordinator finds the draft among what waits on them and opens it for signature.
    click_and_wait(coordinator, coordinator.get_by_role("link", name="My work"))
    click_and_wait(coordinator, coordinator.get_by_role("region", name="Drafts")
                   .get_by_role("link", name=TITLE))
    expect(coordinator.get_by_text("Draft", exact=True).first).to_be_visible()
    click_and_wait(coordinator, coordinator.get_by_role("button", name="Review opening for signature"))
    confirm_on_review(coordinator, "Confirm: open for signature")
    expect(coordinator.get_by_text("The statement is open for signature.")).to_be_visible()
    expect(coordinator.get_by_role("link", name="Sign as an individual")).to_be_visible()
    steps.shot(coordinator, "opened for signature")
    sha256 = coordinator.locator(".statement-meta .hash code").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", sha256)

    # 4. Two organisations sign, each through the confirmation step that shows the title and
    #    the text's short hash; the second then withdraws its signature.
    drafter.goto(statement_url)
    click_and_wait(drafter, drafter.get_by_role("link", name="Sign for your organisation"))
    confirm = drafter.get_by_role("region", name="Confirm your signature")
    expect(confirm).to_contain_text(first_org.name)
    expect(confirm).to_contain_text(TITLE)
    expect(confirm.locator("code")).to_have_text(sha256[:12])
    steps.shot(drafter, "first organisation confirms")
    click_and_wait(drafter, confirm.get_by_role("button", name=f"Sign for {first_org.name}"))
    expect(drafter.get_by_text(f"You signed “{TITLE}” for {first_org.name}.")).to_be_visible()
    expect(drafter.locator(".sign-rows li").filter(has_text=first_org.name).locator(".badge")).to_have_text("signed")

    second = new_page()
    sign_in(second, start["second_signer"].email, factories.PASSWORD)
    click_and_wait(second, second.get_by_role("link", name="My work"))
    click_and_wait(second, second.get_by_role("list", name="Waiting for an answer")
                   .get_by_role("link", name=TITLE, exact=True))
    click_and_wait(second, second.get_by_role("link", name="Sign for your organisation"))
    confirm = second.get_by_role("region", name="Confirm your signature")
    expect(confirm).to_contain_text(second_org.name)
    expect(confirm).to_contain_text(TITLE)
    expect(confirm.locator("code")).to_have_text(sha256[:12])
    click_and_wait(second, confirm.get_by_role("button", name=f"Sign for {second_org.name}"))
    expect(second.get_by_text(f"You signed “{TITLE}” for {second_org.name}.")).to_be_visible()
    steps.shot(second, "second organisation signed")
    click_and_wait(second, second.get_by_role("button", name="Withdraw the signature"))
    expect(second.get_by_text(f"The signature of {second_org.name} is withdrawn.")).to_be_visible()
    second_row = second.locator(".sign-rows li").filter(has_text=second_org.name)
    expect(second_row.locator(".badge")).to_have_text("signature withdrawn")
    expect(second.get_by_role("region", name="Confirm your signature")).to_have_count(0)
    steps.shot(second, "second organisation withdrew")

    # 5. An individual signs with name and email, gets the email, follows its link and presses
    #    the confirmation button.
    individual = new_page(390, 844)
    individual.goto(statement_url)
    click_and_wait(individual, individual.get_by_role("link", name="Sign as an individual"))
    form = individual.get_by_role("region", name="Sign as an individual")
    form.get_by_label("Your name").fill("Mariia Kovalenko")
    form.get_by_label("Affiliation (optional)").fill("Lviv")
    form.get_by_label("Email address").fill(INDIVIDUAL_EMAIL)
    steps.shot(individual, "individual fills the form")
    click_and_wait(individual, form.get_by_role("button", name="Sign", exact=True))
    expect(individual.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(individual.locator("main")).to_contain_text(f"Thank you for signing “{TITLE}”.")
    steps.shot(individual, "individual is asked to check the email")
    email = OutboundEmail.objects.filter(recipient=INDIVIDUAL_EMAIL, kind="signature_confirmation").get()
    assert TITLE in email.subject + email.body_text
    individual.goto(emailed_path(INDIVIDUAL_EMAIL, "signature_confirmation", r"/statements/\S+/sign/confirm/\S+/"))
    expect(individual.get_by_role("heading", name="Confirm your signature")).to_be_visible()
    expect(individual.locator(".confirm-facts")).to_contain_text("Mariia Kovalenko, Lviv")
    expect(individual.locator(".confirm-facts")).to_contain_text(re.compile(r"revision \d+"))
    expect(individual.locator(".confirm-facts code")).to_have_count(0)  # no hash to the public
    click_and_wait(individual, individual.get_by_role("button", name="Confirm my signature"))
    expect(individual.get_by_role("heading", name="Your signature is confirmed")).to_be_visible()
    steps.shot(individual, "individual confirmed")

    # 6. The coordinator closes signing and publishes; the signed PDF is ready once made.
    coordinator.goto(statement_url)
    signatories = coordinator.get_by_role("region", name="Signatories")
    expect(signatories.get_by_role("heading", name="1 organisation")).to_be_visible()
    expect(signatories.get_by_role("heading", name="1 individual")).to_be_visible()
    click_and_wait(coordinator, coordinator.get_by_role("button", name="Review closing signing"))
    confirm_on_review(coordinator, "Confirm: close signing")
    expect(coordinator.get_by_text("Signing is closed.")).to_be_visible()
    coordinator.set_default_timeout(60_000)  # in-process, the PDF is made before the answer
    click_and_wait(coordinator, coordinator.get_by_role("button", name="Review publishing"))
    confirm_on_review(coordinator, "Confirm: publish")
    # In-process the PDF is ready before the answer; a worker may still be making it.
    expect(coordinator.get_by_text(re.compile(
        r"The statement is published(; its signed PDF is being prepared| with its signed PDF)\."))).to_be_visible()
    steps.shot(coordinator, "published")
    download = coordinator.get_by_role("link", name="Download the signed PDF (issue 1)")
    deadline = time.time() + 90
    while not download.count() and time.time() < deadline:  # the worker's PDF: reload as a person would
        expect(coordinator.get_by_text("The signed PDF is being prepared.").first).to_be_visible()
        time.sleep(1)
        coordinator.reload()
    expect(download).to_be_visible()
    steps.shot(coordinator, "signed pdf ready")
    coordinator.set_default_timeout(15_000)

    # 7. A visitor searches the archive, opens the statement, reads who signed, downloads the
    #    PDF and verifies it.
    visitor = new_page()
    visitor.goto("/")
    visitor.get_by_role("search").get_by_label("Search").fill("Olenivka civilians")
    click_and_wait(visitor, visitor.get_by_role("button", name="Search"))
    expect(visitor.get_by_role("heading", name="1 statement found")).to_be_visible()
    steps.shot(visitor, "found by search")
    click_and_wait(visitor, visitor.get_by_role("link", name=TITLE))
    expect(visitor.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(visitor.get_by_role("strong").filter(has_text="thousands of Ukrainian civilians")).to_be_visible()
    signatories = visitor.get_by_role("region", name="Signatories")
    expect(signatories.get_by_role("heading", name="1 organisation")).to_be_visible()
    expect(signatories.get_by_role("link", name=first_org.name)).to_be_visible()
    expect(signatories).not_to_contain_text(second_org.name)
    expect(signatories).not_to_contain_text(silent_org.name)
    expect(signatories.get_by_role("heading", name="1 individual")).to_be_visible()
    expect(signatories).to_contain_text("Mariia Kovalenko, Lviv")
    assert INDIVIDUAL_EMAIL not in visitor.content()
    steps.shot(visitor, "statement with its signatories")

    # The public page shows no hash: its "check" link carries the one the site stands behind.
    check = visitor.get_by_role("region", name="Signed PDF").get_by_role("link", name="Check that this PDF is the one we published")
    shown_sha256 = check.get_attribute("href").split("sha256=", 1)[1]
    # The link opens the PDF in the browser's viewer; fetch it as that tab does, with the
    # visitor's cookies, to keep the file.
    link = visitor.get_by_role("link", name="Download the signed PDF (issue 1)")
    response = visitor.request.get(link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf_path = tmp_path / "downloaded.pdf"
    pdf_path.write_bytes(response.body())
    data = pdf_path.read_bytes()
    assert data.startswith(b"%PDF")
    publication = Statement.objects.get(slug=statement_url.rstrip("/").rsplit("/", 1)[1]).publications.get()
    assert publication.state == Publication.State.READY
    assert hashlib.sha256(data).hexdigest() == publication.sha256 == shown_sha256

    click_and_wait(visitor, visitor.get_by_role("link", name="How to check that a PDF is the one we published"))
    visitor.get_by_label("A PDF file").set_input_files(pdf_path)
    click_and_wait(visitor, visitor.get_by_role("button", name="Verify"))
    answer = visitor.get_by_role("status")
    expect(answer.get_by_role("heading", name="Authentic")).to_be_visible()
    expect(answer).to_contain_text(f"Issue 1 of “{TITLE}”.")
    expect(answer).to_contain_text("the signature is intact")
    expect(answer.locator(".hash code")).to_have_text(publication.sha256)
    steps.shot(visitor, "pdf verified")
