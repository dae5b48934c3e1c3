"""The Atom feed, the JSON API, sitemap.xml and robots.txt."""

import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from django.urls import reverse

from statements import services
from statements.services import cosigning, publishing

from . import factories
from .factories import make_statement

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def published_with_pdf(coalition, coordinator, django_capture_on_commit_callbacks):
    def make(title, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return make_statement(coalition, by=coordinator, status="published", title=title, **kwargs)
    return make


@pytest.mark.slow
def test_feed_is_atom_with_one_entry_per_publication(client, coordinator, published_with_pdf,
                                                     django_capture_on_commit_callbacks, settings):
    first = published_with_pdf("First statement", summary="What the first says.")
    published_with_pdf("Second statement")
    with django_capture_on_commit_callbacks(execute=True):
        publishing.publish_correction(first, by=coordinator, note="A name was misspelt.")
    response = client.get(reverse("feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    for element in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{element}") is not None
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == f"{settings.SITE_URL}{reverse('feed')}"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 3
    ids = [entry.find(f"{ATOM}id").text for entry in entries]
    assert len(set(ids)) == 3
    titles = [entry.find(f"{ATOM}title").text for entry in entries]
    assert "First statement (correction, issue 2)" in titles and "Second statement" in titles
    for entry in entries:
        for element in ("id", "title", "updated", "link"):
            assert entry.find(f"{ATOM}{element}") is not None
        enclosure = entry.find(f"{ATOM}link[@rel='enclosure']")
        assert enclosure.get("type") == "application/pdf" and int(enclosure.get("length")) > 0


def test_feed_leaves_out_drafts_and_issues_not_yet_ready(client, coalition, coordinator):
    make_statement(coalition, by=coordinator, status="published", title="PDF still being prepared")
    make_statement(coalition, by=coordinator, status="open", title="Open")
    feed = ET.fromstring(client.get(reverse("feed")).content)
    assert feed.findall(f"{ATOM}entry") == []


def test_api_list_is_paginated_json_of_published_statements(client, coalition, coordinator, settings,
                                                            monkeypatch):
    for n in range(3):
        make_statement(coalition, by=coordinator, status="published", title=f"Statement {n}")
    make_statement(coalition, by=coordinator, status="draft", title="Draft")
    monkeypatch.setattr("statements.api.PAGE_SIZE", 2)
    data = client.get(reverse("api_statements")).json()
    second = client.get(data["next"].removeprefix(settings.SITE_URL)).json()
    assert data["count"] == 3 and data["pages"] == 2 and data["page"] == 1 and data["previous"] is None
    assert len(data["results"]) == 2 and len(second["results"]) == 1 and second["next"] is None
    item = data["results"][0]
    assert set(item) == {"slug", "url", "api_url", "title", "summary", "language", "original_language",
                         "is_translation", "coalition", "coalition_names", "status", "published_at",
                         "withdrawn_at", "withdrawal_reason"}
    assert item["title"] == "Statement 2" and item["status"] == "published"


def test_api_list_takes_the_archive_search(client, coalition, coordinator):
    make_statement(coalition, by=coordinator, status="published", title="Про депортації", language="uk",
                   body="Діти депортовані.")
    make_statement(coalition, by=coordinator, status="published", title="On elections")
    data = client.get(reverse("api_statements"), {"q": "депортовані"}).json()
    assert [r["title"] for r in data["results"]] == ["Про депортації"]


def test_api_detail_gives_text_signatories_and_pdf_issues(client, coalition, coordinator, settings,
                                                         django_capture_on_commit_callbacks):
    organisation = factories.MembershipFactory(coalition=coalition).organisation
    signer = factories.OrganisationRoleFactory(organisation=organisation, can_sign=True).user
    statement = make_statement(coalition, by=coordinator, status="open", title="Detailed", body="Its *words*.",
                               allows_individuals=True)
    cosigning.sign_for_organisation(statement, by=signer, organisation=organisation,
                                    sha256=statement.signed_revision.sha256)
    services.close_signing(statement, by=coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish(statement, by=coordinator)
    data = client.get(reverse("api_statement", args=[statement.slug])).json()
    assert data["slug"] == statement.slug and data["title"] == "Detailed"
    assert data["text"]["body"] == "Its *words*." and "<em>words</em>" in data["text"]["body_html"]
    assert data["text"]["sha256"] == statement.signed_revision.sha256
    assert data["signatories"]["organisations"] == [{
        "name": organisation.name, "names": {"en": organisation.name, "uk": organisation.name},
        "slug": organisation.slug, "url": f"{settings.SITE_URL}{organisation.get_absolute_url()}",
        "published_names": {"en": organisation.name, "uk": organisation.name},
    }]
    assert data["signatories"]["individual_count"] == 0
    assert data["signatories"]["individuals_url"] == f"{settings.SITE_URL}/api/statements/{statement.slug}/signatories/"
    [issue] = data["publications"]
    assert issue["issue"] == 1 and len(issue["sha256"]) == 64 and issue["pdf_url"].endswith("?issue=1")
    assert data["translations"] == [] and data["verify_url"].endswith(f"?statement={statement.slug}")


def test_api_detail_of_a_draft_or_unknown_statement_is_a_404(client, coalition, coordinator):
    draft = make_statement(coalition, by=coordinator, title="Draft")
    assert client.get(reverse("api_statement", args=[draft.slug])).status_code == 404
    assert client.get(reverse("api_statement", args=["no-such-statement"])).status_code == 404


def test_sitemap_lists_public_statements_only(client, coalition, coordinator, settings):
    public = make_statement(coalition, by=coordinator, status="published", title="Public")
    draft = make_statement(coalition, by=coordinator, title="Draft")
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    locations = [loc.text for loc in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert f"{settings.SITE_URL}{public.get_absolute_url()}" in locations
    assert f"{settings.SITE_URL}{draft.get_absolute_url()}" not in locations


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_out_of_accounts(client, settings):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert f"Sitemap: {settings.SITE_URL}/sitemap.xml" in body and "Disallow: /accounts/" in body


# What each entry and issue stands for today -------------------------------------------------------


def feed_entries(client, **cookies) -> dict[str, ET.Element]:
    for name, value in cookies.items():
        client.cookies[name] = value
    feed = ET.fromstring(client.get(reverse("feed")).content)
    return {entry.find(f"{ATOM}title").text: entry for entry in feed.findall(f"{ATOM}entry")}


def test_feed_marks_a_withdrawn_statements_entries_with_the_reason(client, coordinator, published_with_pdf):
    kept = published_with_pdf("Kept statement")
    gone = published_with_pdf("Gone statement")
    services.withdraw(gone, by=coordinator, reason="A signatory's account proved <b>false</b>.")
    gone.refresh_from_db()
    entries = feed_entries(client)
    assert set(entries) == {"Kept statement", "Withdrawn: Gone statement"}
    summary = entries["Withdrawn: Gone statement"].find(f"{ATOM}summary").text
    assert "The coalition withdrew this statement on" in summary
    assert "A signatory&#x27;s account proved &lt;b&gt;false&lt;/b&gt;." in summary
    # A reader that already holds the entry sees it changed.
    updated = entries["Withdrawn: Gone statement"].find(f"{ATOM}updated").text
    assert datetime.fromisoformat(updated) == gone.withdrawn_at
    assert "withdrew" not in (entries["Kept statement"].find(f"{ATOM}summary").text or "")
    assert kept.status == "published"


def test_feed_marks_withdrawn_entries_in_ukrainian(client, coordinator, published_with_pdf):
    gone = published_with_pdf("Заява, яку відкликали")
    services.withdraw(gone, by=coordinator, reason="Факти не підтвердилися.")
    entries = feed_entries(client, django_language="uk")
    [(title, entry)] = entries.items()
    assert title == "Відкликано: Заява, яку відкликали"
    summary = entry.find(f"{ATOM}summary").text
    assert "Коаліція відкликала цю заяву" in summary and "Факти не підтвердилися." in summary


def test_feed_marks_a_superseded_issue_with_the_issue_that_replaced_it(
        client, coordinator, published_with_pdf, django_capture_on_commit_callbacks):
    first = published_with_pdf("Corrected statement")
    with django_capture_on_commit_callbacks(execute=True):
        publishing.publish_correction(first, by=coordinator, note="A name was misspelt.")
    entries = feed_entries(client)
    assert set(entries) == {"Corrected statement (superseded by issue 2)",
                            "Corrected statement (correction, issue 2)"}
    assert "Superseded by issue 2." in entries["Corrected statement (superseded by issue 2)"].find(
        f"{ATOM}summary").text
    assert set(feed_entries(client, django_language="uk")) == {"Corrected statement (замінено випуском 2)",
                                                              "Corrected statement (виправлення, випуск 2)"}


def test_api_gives_each_issue_its_status_and_the_statements_withdrawal(
        client, coalition, coordinator, published_with_pdf, django_capture_on_commit_callbacks):
    statement = published_with_pdf("Status in the API")
    url = reverse("api_statement", args=[statement.slug])
    data = client.get(url).json()
    assert data["status"] == "published" and data["withdrawn_at"] is None and data["withdrawal_reason"] is None
    assert [(p["issue"], p["status"], p["superseded_by"]) for p in data["publications"]] == [(1, "current", None)]
    with django_capture_on_commit_callbacks(execute=True):
        publishing.publish_correction(statement, by=coordinator, note="A date fixed.")
    data = client.get(url).json()
    assert [(p["issue"], p["status"], p["superseded_by"]) for p in data["publications"]] == [
        (2, "current", None), (1, "superseded", 2)]
    services.withdraw(statement, by=coordinator, reason="Overtaken by events.")
    statement.refresh_from_db()
    data = client.get(url).json()
    assert data["status"] == "withdrawn" and data["withdrawal_reason"] == "Overtaken by events."
    assert data["withdrawn_at"] == statement.withdrawn_at.isoformat()
    assert [(p["issue"], p["status"], p["superseded_by"]) for p in data["publications"]] == [
        (2, "withdrawn", None), (1, "withdrawn", 2)]
    [item] = client.get(reverse("api_statements")).json()["results"]
    assert item["status"] == "withdrawn" and item["withdrawal_reason"] == "Overtaken by events."
