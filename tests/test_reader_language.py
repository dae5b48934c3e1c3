"""The reader's language decides what they read (issue 15): wherever a statement appears, a reader
of Ukrainian reads its Ukrainian title and summary when a current translation exists (one of the
text published), marked as a translation with a link to the signed original; otherwise the
original, with a note on the statement's page. English readers still read English."""

from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coalition.models import OutboundEmail

from statements import selectors
from statements.models import Subscriber

from . import factories
from .factories import make_statement
from .helpers import EN, UK, page, statement, translated  # noqa: F401 (statement: a fixture)

pytestmark = pytest.mark.django_db

# Lists ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/statements/"])
def test_the_front_page_and_archive_show_the_ukrainian_title_and_summary_to_a_ukrainian_reader(client, statement, url):
    found = page(client, url)
    assert "Українською: On deportations" in found and "Українське резюме: On deportations." in found
    assert "On deportations: the summary." not in found
    assert 'lang="uk">Українською: On deportations</a>' in found
    assert "переклад" in found  # the mark: a translation, not the signed text


@pytest.mark.slow
@pytest.mark.parametrize("url", ["/", "/statements/"])
def test_english_readers_still_read_the_english_original(client, statement, url):
    found = page(client, url, EN)
    assert 'lang="en">On deportations</a>' in found and "On deportations: the summary." in found
    assert "Українською" not in found and "translation</span>" not in found


def test_search_results_are_in_the_readers_language_whichever_language_matched(client, statement):
    for words in ["deported", "депортували"]:
        found = page(client, reverse("statement_list"), q=words)
        assert "Українською: On deportations" in found and "Українське резюме" in found


def test_a_stale_translation_is_not_shown_to_the_public(client, coalition, coordinator):
    translated(coalition, coordinator, title="Changed after translation", stale=True)
    for url in ["/", reverse("statement_list")]:
        found = page(client, url)
        assert "Changed after translation: the summary." in found and "Українською" not in found
    statement_page = page(client, reverse("statement_detail", args=["changed-after-translation"]))
    assert "Українською" not in statement_page and "Цю заяву написано лише англійською." in statement_page


def test_the_organisation_page_lists_what_it_signed_in_the_readers_language(client, coalition, coordinator):
    organisation = factories.MembershipFactory(coalition=coalition).organisation
    signer = factories.OrganisationRoleFactory(organisation=organisation, can_sign=True).user
    translated(coalition, coordinator, title="Signed by them", organisation=organisation, signer=signer)
    url = reverse("organisation_detail", args=[organisation.slug])
    assert "Українською: Signed by them" in page(client, url)
    assert "Українською" not in page(client, url, EN) and "Signed by them" in page(client, url, EN)


def test_the_archive_asks_the_same_number_of_questions_for_one_translated_statement_as_for_ten(
        client, coalition, coordinator):
    translated(coalition, coordinator, title="Only one")

    def count():
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("statement_list"), {"lang": "uk"}, **UK)
        return len(queries)

    one = count()
    for n in range(9):
        translated(coalition, coordinator, title=f"Another {n}")
    assert count() == one


# The statement's page ---------------------------------------------------------------------------


def test_the_statement_page_opens_in_the_readers_language_marked_with_a_link_to_the_original(client, statement):
    found = page(client, statement.get_absolute_url())
    assert "<h1>Українською: On deportations</h1>" in found and "Дітей депортували." in found
    assert '<article class="statement" lang="uk">' in found
    assert "Переклад з англійської." in found
    assert f'<a href="?lang=en" hreflang="en">' in found  # the signed original, one click away
    assert '<meta property="og:title" content="Українською: On deportations">' in found
    assert '<meta property="og:description" content="Українське резюме: On deportations.">' in found


def test_lang_in_the_address_still_forces_a_version(client, statement, settings):
    found = page(client, statement.get_absolute_url(), lang="en")
    assert "<h1>On deportations</h1>" in found and "Переклад з англійської." not in found
    assert "лише англійською" not in found  # asked for the original: no note
    url = f"{settings.SITE_URL}{statement.get_absolute_url()}"
    assert f'<link rel="canonical" href="{url}?lang=en">' in found
    english_reader = page(client, statement.get_absolute_url(), EN, lang="uk")
    assert "<h1>Українською: On deportations</h1>" in english_reader
    assert "Translation from English." in english_reader


def test_english_readers_open_the_english_original_without_a_note(client, statement, settings):
    found = page(client, statement.get_absolute_url(), EN)
    assert "<h1>On deportations</h1>" in found and "translation-note" not in found
    url = f"{settings.SITE_URL}{statement.get_absolute_url()}"
    assert f'<link rel="canonical" href="{url}">' in found


def test_every_language_version_is_an_hreflang_alternate_and_the_original_the_default(client, statement, settings):
    url = f"{settings.SITE_URL}{statement.get_absolute_url()}"
    for headers in (UK, EN):
        found = page(client, statement.get_absolute_url(), headers)
        assert f'<link rel="alternate" hreflang="en" href="{url}?lang=en">' in found
        assert f'<link rel="alternate" hreflang="uk" href="{url}?lang=uk">' in found
        assert f'<link rel="alternate" hreflang="x-default" href="{url}">' in found


def test_a_statement_without_a_ukrainian_version_says_so_to_a_ukrainian_reader(client, coalition, coordinator,
                                                                                settings):
    statement = make_statement(coalition, by=coordinator, status="published", title="English only")
    found = page(client, statement.get_absolute_url())
    assert "<h1>English only</h1>" in found and "Цю заяву написано лише англійською." in found
    url = f"{settings.SITE_URL}{statement.get_absolute_url()}"
    assert f'<link rel="alternate" hreflang="x-default" href="{url}">' in found
    assert 'hreflang="uk"' not in found


def test_a_signed_in_reader_opens_the_statement_in_their_own_language(client, statement, outsider):
    outsider.language = "uk"
    outsider.save(update_fields=["language"])
    client.force_login(outsider)
    found = page(client, statement.get_absolute_url(), EN)  # their account's language, not the browser's
    assert "<h1>Українською: On deportations</h1>" in found and "Переклад з англійської." in found


def test_member_staff_still_open_an_out_of_date_translation_only_when_they_ask(client, coalition, coordinator):
    statement = translated(coalition, coordinator, title="Being changed", stale=True, status="draft")
    client.force_login(coordinator)
    coordinator.language = "uk"
    coordinator.save(update_fields=["language"])
    assert "<h1>Being changed</h1>" in page(client, statement.get_absolute_url())
    asked = page(client, statement.get_absolute_url(), lang="uk")
    assert "<h1>Українською: Being changed</h1>" in asked


# The stored copies ------------------------------------------------------------------------------


@pytest.mark.parametrize("first, then", [(UK, EN), (EN, UK)], ids=["uk-then-en", "en-then-uk"])
def test_a_stored_copy_is_served_only_to_readers_of_its_language(client, statement, first, then,
                                                                 django_assert_num_queries):
    for url in ["/", reverse("statement_list"), statement.get_absolute_url(), reverse("feed")]:
        made = page(client, url, first)
        with django_assert_num_queries(0):
            assert page(client, url, first) == made  # the stored copy, to the same language
        other = page(client, url, then)
        assert other != made
        assert ("Українською" in other) == (then is UK)
        with django_assert_num_queries(0):
            assert page(client, url, then) == other


def test_a_page_made_in_another_language_than_its_key_is_not_stored(client, statement, monkeypatch):
    from types import SimpleNamespace

    from coalition import caching

    # The cache reads the language as English; LocaleMiddleware makes the page in Ukrainian.
    monkeypatch.setattr(caching, "translation", SimpleNamespace(get_language_from_request=lambda request: "en"))
    assert "Українською" in page(client, "/")
    monkeypatch.undo()
    assert "Українською" not in page(client, "/", EN)


# Feed, sitemap, emails, API ---------------------------------------------------------------------


def test_the_feed_follows_the_readers_language(client, statement):
    ukrainian = page(client, reverse("feed"))
    assert "<title>Українською: On deportations</title>" in ukrainian and "Українське резюме" in ukrainian
    assert 'xml:lang="uk"' in ukrainian
    english = page(client, reverse("feed"), EN)
    assert "<title>On deportations</title>" in english and "Українське резюме" not in english


def test_the_sitemap_gives_each_language_version_as_an_alternate(client, statement, coalition, coordinator, settings):
    make_statement(coalition, by=coordinator, status="published", title="Untranslated")
    root = ElementTree.fromstring(client.get("/sitemap.xml").content)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    url = f"{settings.SITE_URL}{statement.get_absolute_url()}"
    entry = next(u for u in root.findall("s:url", ns) if u.find("s:loc", ns).text == url)
    alternates = {link.get("hreflang"): link.get("href") for link in entry.findall("x:link", ns)}
    assert alternates == {"en": f"{url}?lang=en", "uk": f"{url}?lang=uk", "x-default": url}
    untranslated = next(u for u in root.findall("s:url", ns) if u.find("s:loc", ns).text.endswith("/untranslated/"))
    assert untranslated.findall("x:link", ns) == []


def test_a_ukrainian_subscriber_is_told_of_the_publication_in_ukrainian(coalition, coordinator,
                                                                       django_capture_on_commit_callbacks):
    Subscriber.objects.create(email="uk@example.net", language="uk", confirmed_at="2025-01-01T00:00Z")
    Subscriber.objects.create(email="en@example.net", language="en", confirmed_at="2025-01-01T00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        translated(coalition, coordinator)
    ukrainian = OutboundEmail.objects.get(kind="statement_published", recipient="uk@example.net")
    assert "Українською: On deportations" in ukrainian.subject
    assert "Українською: On deportations" in ukrainian.body_text and "Українське резюме" in ukrainian.body_text
    assert "Українське резюме" in ukrainian.body_html
    english = OutboundEmail.objects.get(kind="statement_published", recipient="en@example.net")
    assert "On deportations" in english.subject and "Українською" not in english.subject + english.body_text
    assert "On deportations: the summary." in english.body_text


def test_a_ukrainian_signer_is_asked_to_sign_with_the_ukrainian_title(coalition, coordinator, member_org,
                                                                     django_capture_on_commit_callbacks):
    signer = factories.OrganisationRoleFactory(organisation=member_org, can_sign=True, user__language="uk").user
    with django_capture_on_commit_callbacks(execute=True):
        translated(coalition, coordinator, status="open")
    email = OutboundEmail.objects.get(kind="statement_opened", recipient=signer.email)
    assert "Українською: On deportations" in email.subject and "Українське резюме" in email.body_text


def test_the_api_gives_every_language_version_and_takes_lang_as_a_preference(client, statement):
    detail = client.get(reverse("api_statement", args=[statement.slug])).json()
    assert (detail["title"], detail["language"], detail["is_translation"]) == ("On deportations", "en", False)
    versions = {v["language"]: v for v in detail["versions"]}
    assert versions["en"]["is_original"] and not versions["uk"]["is_original"]
    assert versions["uk"]["title"] == "Українською: On deportations"
    assert versions["uk"]["body_html"] == "<p>Дітей депортували.</p>"
    preferred = client.get(reverse("api_statement", args=[statement.slug]), {"lang": "uk"}).json()
    assert (preferred["title"], preferred["summary"]) == ("Українською: On deportations",
                                                          "Українське резюме: On deportations.")
    assert preferred["language"] == "uk" and preferred["original_language"] == "en" and preferred["is_translation"]
    listed = client.get(reverse("api_statements"), {"lang": "uk"}).json()["results"]
    assert [r["title"] for r in listed] == ["Українською: On deportations"]


def test_the_api_gives_the_original_for_a_stale_translation(client, coalition, coordinator):
    statement = translated(coalition, coordinator, title="Stale", stale=True)
    detail = client.get(reverse("api_statement", args=[statement.slug]), {"lang": "uk"}).json()
    assert (detail["title"], detail["language"]) == ("Stale", "en")
    assert [v["language"] for v in detail["versions"]] == ["en"]


def test_one_selector_names_a_whole_list_in_two_queries(statement, coalition, coordinator, django_assert_num_queries):
    translated(coalition, coordinator, title="Second", stale=True)
    statements = list(selectors.published_statements())
    with django_assert_num_queries(1):
        named = {s.slug: s.reader for s in selectors.reader_texts(statements, "uk")}
    assert named[statement.slug].title == "Українською: On deportations" and named[statement.slug].is_translation
    assert named["second"].title == "Second" and not named["second"].is_translation
