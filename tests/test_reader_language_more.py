"""The reader's language on the pages left after issue 15's first part (transparency, /verify/,
dashboard, sign, roster, signatories, signature pages, events, revisions), in emails' links, in
the Atom feed's entries, and the organisations' names in every language in the signatures CSV."""

import csv
import io
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coalition.models import OutboundEmail
from statements.models import Subscriber

from . import factories
from .factories import make_statement
from .helpers import EN, UK, page, statement, translated  # noqa: F401 (statement: a fixture)

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


# Pages ------------------------------------------------------------------------------------------


def test_transparency_and_verify_name_the_issue_in_the_readers_language(client, statement):
    for url, params in [(reverse("transparency"), {}), (reverse("verify"), {"statement": statement.slug})]:
        ukrainian = page(client, url, **params)
        assert "Українською: On deportations" in ukrainian
        english = page(client, url, EN, **params)
        assert "On deportations" in english and "Українською" not in english


def test_the_transparency_page_asks_as_many_questions_for_one_translated_issue_as_for_four(
        client, coalition, coordinator, django_capture_on_commit_callbacks):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert "Українською" in page(client, reverse("transparency"))
        return len(queries)

    with django_capture_on_commit_callbacks(execute=True):
        translated(coalition, coordinator, title="First")
    one = count()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            translated(coalition, coordinator, title=f"Another {n}")
    assert count() == one


def test_the_transparency_json_keeps_the_original_title(client, statement):
    found = client.get(reverse("transparency"), {"format": "json"}, **UK).json()
    assert "Українською" not in str(found)


def test_the_sign_page_heads_in_the_readers_language_and_shows_the_original_to_be_signed(
        client, coalition, coordinator, signer):
    statement = translated(coalition, coordinator, status="open")
    signer.language = "uk"  # a signed-in reader reads in their account's language
    signer.save(update_fields=["language"])
    client.force_login(signer)
    ukrainian = page(client, reverse("statement_sign", args=[statement.slug]))
    assert "Українською: On deportations" in ukrainian.split("</h1>")[0]
    assert "Підписується оригінал англійською." in ukrainian
    assert f'href="{statement.get_absolute_url()}?lang=uk"' in ukrainian
    assert "Children were deported." in ukrainian and "Дітей депортували" not in ukrainian
    signer.language = "en"
    signer.save(update_fields=["language"])
    english = page(client, reverse("statement_sign", args=[statement.slug]), EN)
    assert "Українською" not in english and "What is signed is the original" not in english


def test_a_coordinators_pages_about_a_statement_name_it_in_their_language(client, coalition, coordinator):
    statement = translated(coalition, coordinator, status="open")
    coordinator.language = "uk"
    coordinator.save(update_fields=["language"])
    client.force_login(coordinator)
    for name in ["statement_roster", "statement_events", "statement_history", "statement_diff"]:
        ukrainian = page(client, reverse(name, args=[statement.slug]))
        assert "Українською: On deportations" in ukrainian.split("</title>")[0], name
        assert 'lang="uk">Українською: On deportations<' in ukrainian, name


def test_the_signatories_list_and_sent_page_name_the_statement_in_the_readers_language(
        client, coalition, coordinator):
    statement = translated(coalition, coordinator, status="draft")
    statement.allows_individuals = True
    statement.save(update_fields=["allows_individuals"])
    from statements import services

    services.open_for_signature(statement, by=coordinator, deadline=None)
    for name in ["statement_signatories", "signature_sent"]:
        assert "Українською: On deportations" in page(client, reverse(name, args=[statement.slug])), name
        assert "Українською" not in page(client, reverse(name, args=[statement.slug]), EN), name


def test_the_dashboard_names_open_statements_in_the_signers_language_in_constant_queries(
        client, coalition, coordinator, member_org):
    signer = factories.OrganisationRoleFactory(organisation=member_org, can_sign=True, user__language="uk").user
    translated(coalition, coordinator, status="open")
    client.force_login(signer)

    def count():
        with CaptureQueriesContext(connection) as queries:
            found = page(client, reverse("dashboard"))
        return found, len(queries)

    found, one = count()
    assert 'lang="uk">Українською: On deportations</a>' in found
    for n in range(3):
        translated(coalition, coordinator, title=f"Another {n}", status="open")
    found, four = count()
    assert "Українською: Another 2" in found and four == one


# Emails, feed, CSV ------------------------------------------------------------------------------


def test_an_email_links_to_the_statement_in_the_recipients_language_when_it_has_a_translation(
        coalition, coordinator, settings, django_capture_on_commit_callbacks):
    Subscriber.objects.create(email="uk@example.net", language="uk", confirmed_at="2025-01-01T00:00Z")
    Subscriber.objects.create(email="en@example.net", language="en", confirmed_at="2025-01-01T00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        statement = translated(coalition, coordinator)
        untranslated = make_statement(coalition, by=coordinator, status="published", title="Untranslated")
    url = settings.SITE_URL + statement.get_absolute_url()
    ukrainian = OutboundEmail.objects.get(kind="statement_published", recipient="uk@example.net",
                                          subject__contains="On deportations")
    assert f"{url}?lang=uk\n" in ukrainian.body_text and f'href="{url}?lang=uk"' in ukrainian.body_html
    english = OutboundEmail.objects.get(kind="statement_published", recipient="en@example.net",
                                        subject__contains="On deportations")
    assert f"{url}\n" in english.body_text and "?lang=" not in english.body_text + english.body_html
    # No Ukrainian version to open: the bare address, which says the statement is in English only.
    plain = OutboundEmail.objects.get(kind="statement_published", recipient="uk@example.net",
                                      subject__contains="Untranslated")
    assert "?lang=" not in plain.body_text + plain.body_html
    assert settings.SITE_URL + untranslated.get_absolute_url() in plain.body_text


def test_a_feed_entry_in_another_language_than_the_feeds_says_its_own(
        client, statement, coalition, coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_statement(coalition, by=coordinator, status="published", title="Untranslated")
    root = ElementTree.fromstring(client.get(reverse("feed"), **UK).content)
    assert root.get(XML_LANG) == "uk"
    entries = {entry.find(f"{ATOM}title").text: entry.get(XML_LANG) for entry in root.findall(f"{ATOM}entry")}
    assert entries == {"Українською: On deportations": None, "Untranslated": "en"}
    english = ElementTree.fromstring(client.get(reverse("feed"), **EN).content)
    assert [entry.get(XML_LANG) for entry in english.findall(f"{ATOM}entry")] == [None, None]


def test_the_signatures_csv_names_each_organisation_in_every_language(client, coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, status="open")
    both = factories.MembershipFactory(coalition=coalition, organisation__name="Alpha Rights",
                                       organisation__translations={"uk": {"name": "=Альфа права"}}).organisation
    english_only = factories.MembershipFactory(coalition=coalition, organisation__name="Beta Watch").organisation
    for organisation in [both, english_only]:
        signer = factories.OrganisationRoleFactory(organisation=organisation, can_sign=True).user
        from statements.services import cosigning

        cosigning.sign_for_organisation(statement, by=signer, organisation=organisation,
                                        sha256=statement.signed_revision.sha256)
    client.force_login(coordinator)
    body = b"".join(client.get(reverse("statement_signatures_csv", args=[statement.slug])).streaming_content)
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [(row["organisation"], row["organisation_uk"]) for row in rows] == [
        ("Alpha Rights", "'=Альфа права"),  # a formula start is neutralised in this column too
        ("Beta Watch", "Beta Watch"),  # no Ukrainian name: the original
    ]
    assert list(rows[0])[:11] == ["kind", "organisation", "name", "affiliation", "email", "signed_by",
                                  "signed_at", "confirmed_at", "revision", "sha256", "current_text"]
