"""The public archive: search (Ukrainian and English), filters, pages, organisation pages, the
statement page's public parts, and bad query strings."""

from contextlib import nullcontext
from datetime import datetime, timezone as dt_timezone
from unittest.mock import patch

import pytest
from django.urls import reverse

from statements import selectors, services

from . import factories
from .factories import make_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(coalition, coordinator):
    def make(title, body="The text.", language="en", at=None, **kwargs):
        """`at`: when it was published (published statements never change afterwards)."""
        with patch("django.utils.timezone.now", return_value=at) if at else nullcontext():
            return make_statement(coalition, by=coordinator, status="published", title=title, body=body,
                                  language=language, **kwargs)
    return make


def titles(response) -> list[str]:
    return [s.title for s in response.context["statements"]]


def test_an_english_word_finds_the_statement_in_any_form(client, published):
    published("On deportations", body="Children were deported from occupied territories.")
    published("On elections", body="Elections cannot be held under occupation.")
    response = client.get(reverse("statement_list"), {"q": "children"})
    assert titles(response) == ["On deportations"]


def test_a_ukrainian_word_finds_the_ukrainian_statement(client, published):
    published("Про депортації", body="Діти були депортовані з окупованих територій.", language="uk")
    published("Про вибори", body="Вибори неможливі під окупацією.", language="uk")
    response = client.get(reverse("statement_list"), {"q": "депортовані"})
    assert titles(response) == ["Про депортації"]


def test_a_word_found_only_in_a_draft_finds_nothing(client, coalition, coordinator, published):
    published("On elections", body="Elections cannot be held under occupation.")
    make_statement(coalition, by=coordinator, status="draft", title="Secret plan", body="Zanzibar strategy.")
    make_statement(coalition, by=coordinator, status="open", title="Open one", body="Zanzibar again.")
    response = client.get(reverse("statement_list"), {"q": "zanzibar"})
    assert response.status_code == 200
    assert titles(response) == []
    assert "No published statement matches" in response.content.decode()


def test_a_word_from_an_earlier_draft_of_a_published_statement_finds_nothing(client, coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, title="On prisoners", body="Quokka words.")
    services.save_revision(statement, by=coordinator, based_on=statement.current_revision,
                           draft=services.Draft("On prisoners", "", "Final words."))
    services.open_for_signature(statement, by=coordinator, deadline=None)
    services.close_signing(statement, by=coordinator)
    services.publish(statement, by=coordinator)
    assert titles(client.get(reverse("statement_list"), {"q": "quokka"})) == []
    assert titles(client.get(reverse("statement_list"), {"q": "final"})) == ["On prisoners"]


def test_a_translation_is_searched_too(client, coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, title="On torture", body="Torture.")
    services.add_translation(statement, by=coordinator, language="uk", based_on=None,
                             translation_of=statement.current_revision,
                             draft=services.Draft("Про катування", "", "Катування заборонені."))
    services.open_for_signature(statement, by=coordinator, deadline=None)
    services.close_signing(statement, by=coordinator)
    services.publish(statement, by=coordinator)
    assert titles(client.get(reverse("statement_list"), {"q": "заборонені"})) == ["On torture"]


def test_the_front_page_is_the_archive_newest_first(client, published, coalition):
    published("Second statement", at=datetime(2025, 3, 1, tzinfo=dt_timezone.utc))
    published("First statement", at=datetime(2024, 3, 1, tzinfo=dt_timezone.utc))
    response = client.get("/")
    assert titles(response) == ["Second statement", "First statement"]
    assert coalition.name in response.content.decode()


def test_filters_by_year_language_and_organisation(client, coalition, coordinator, published):
    organisation = factories.MembershipFactory(coalition=coalition).organisation
    signer = factories.OrganisationRoleFactory(organisation=organisation, can_sign=True).user
    published("Old English", at=datetime(2023, 5, 1, tzinfo=dt_timezone.utc))
    ukrainian = published("Українська заява", language="uk")
    signed = make_statement(coalition, by=coordinator, status="open", title="Signed by them")
    from statements.services import cosigning
    cosigning.sign_for_organisation(signed, by=signer, organisation=organisation, sha256=signed.signed_revision.sha256)
    services.close_signing(signed, by=coordinator)
    services.publish(signed, by=coordinator)
    url = reverse("statement_list")
    assert titles(client.get(url, {"year": "2023"})) == ["Old English"]
    assert titles(client.get(url, {"lang": "uk"})) == [ukrainian.title]
    assert titles(client.get(url, {"organisation": organisation.slug})) == ["Signed by them"]
    assert titles(client.get(url, {"organisation": organisation.slug, "year": "2023"})) == []


@pytest.mark.parametrize("query", [
    {"page": "abc"}, {"page": "999"}, {"year": "x"}, {"year": "1850"}, {"organisation": "no-such-organisation"},
    {"lang": "xx"}, {"q": "a" * 500}, {"q": "'\"&|!():*"}, {"q": "   "},
])
def test_bad_query_strings_show_the_archive_rather_than_an_error(client, published, query):
    published("Any statement")
    assert client.get(reverse("statement_list"), query).status_code == 200
    assert client.get(reverse("api_statements"), query).status_code == 200


def test_pagination_keeps_the_search_and_filters(client, published):
    for n in range(23):
        published(f"Statement about water {n}")
    response = client.get(reverse("statement_list"), {"q": "water", "lang": "en"})
    assert len(response.context["statements"]) == 20
    page = response.content.decode()
    assert 'href="?q=water&amp;lang=en&amp;page=2"' in page
    second = client.get(reverse("statement_list"), {"q": "water", "lang": "en", "page": "2"})
    assert len(second.context["statements"]) == 3
    assert 'href="?q=water&amp;lang=en&amp;page=1"' in second.content.decode()


def test_withdrawn_statement_stays_in_the_archive_marked_withdrawn(client, published, coordinator):
    statement = published("Withdrawn later")
    services.withdraw(statement, by=coordinator, reason="Superseded.")
    response = client.get(reverse("statement_list"))
    assert titles(response) == ["Withdrawn later"]
    assert "Withdrawn" in response.content.decode()


def test_organisation_page_lists_the_published_statements_it_signed(client, coalition, coordinator):
    membership = factories.MembershipFactory(coalition=coalition)
    organisation = membership.organisation
    signer = factories.OrganisationRoleFactory(organisation=organisation, can_sign=True).user
    from statements.services import cosigning

    def signed(title, status):
        statement = make_statement(coalition, by=coordinator, status="open", title=title)
        cosigning.sign_for_organisation(statement, by=signer, organisation=organisation,
                                        sha256=statement.signed_revision.sha256)
        if status == "published":
            services.close_signing(statement, by=coordinator)
            services.publish(statement, by=coordinator)
        return statement

    signed("Published and signed", "published")
    signed("Still open", "open")
    make_statement(coalition, by=coordinator, status="published", title="Published, not signed")
    page = client.get(reverse("organisation_detail", args=[organisation.slug])).content.decode()
    assert "Published and signed" in page
    assert "Still open" not in page and "Published, not signed" not in page


def test_statement_page_links_signatories_and_has_share_metadata(client, coalition, coordinator, settings):
    organisation = factories.MembershipFactory(coalition=coalition).organisation
    signer = factories.OrganisationRoleFactory(organisation=organisation, can_sign=True).user
    statement = make_statement(coalition, by=coordinator, status="open", title="Shared widely",
                               summary="What it says.")
    from statements.services import cosigning
    cosigning.sign_for_organisation(statement, by=signer, organisation=organisation,
                                    sha256=statement.signed_revision.sha256)
    services.close_signing(statement, by=coordinator)
    services.publish(statement, by=coordinator)
    page = client.get(statement.get_absolute_url()).content.decode()
    url = f"{settings.SITE_URL}{statement.get_absolute_url()}"
    assert f'<link rel="canonical" href="{url}">' in page
    assert f'<meta property="og:url" content="{url}">' in page
    assert '<meta property="og:title" content="Shared widely">' in page
    assert f'href="{reverse("organisation_detail", args=[organisation.slug])}"' in page


def test_published_statement_page_shows_pdf_size_and_verification_link(
        client, coalition, coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        statement = make_statement(coalition, by=coordinator, status="published", title="With its PDF")
    publication = statement.publications.get()
    assert publication.is_public
    page = client.get(statement.get_absolute_url()).content.decode()
    assert "PDF, " in page and ("KB" in page or "bytes" in page)
    assert f'{reverse("verify")}?sha256={publication.sha256}' in page


def test_anonymous_visitors_switch_language_by_a_link_and_stay_on_the_site(client, published):
    response = client.get(reverse("choose_language", args=["uk"]), {"next": "/statements/?q=x"})
    assert response.status_code == 302 and response["Location"] == "/statements/?q=x"
    assert 'lang="uk"' in client.get("/").content.decode()
    away = client.get(reverse("choose_language", args=["en"]), {"next": "https://evil.example/"})
    assert away["Location"] == "/"
    assert client.get(reverse("choose_language", args=["xx"])).status_code == 404


def test_public_pages_carry_no_form_token_for_anonymous_visitors(client, published):
    statement = published("Tokenless")
    for url in ["/", reverse("statement_list"), statement.get_absolute_url()]:
        response = client.get(url)
        assert "csrfmiddlewaretoken" not in response.content.decode()
        assert "csrftoken" not in response.cookies


def test_signed_by_selector_ignores_withdrawn_signatures(coalition, coordinator):
    organisation = factories.MembershipFactory(coalition=coalition).organisation
    signer = factories.OrganisationRoleFactory(organisation=organisation, can_sign=True).user
    statement = make_statement(coalition, by=coordinator, status="open", title="Withdrawn signature")
    from statements.services import cosigning
    signature = cosigning.sign_for_organisation(statement, by=signer, organisation=organisation,
                                                sha256=statement.signed_revision.sha256)
    cosigning.withdraw_signature(signature, by=signer)
    services.close_signing(statement, by=coordinator)
    services.publish(statement, by=coordinator)
    assert list(selectors.signed_by(organisation)) == []


def test_search_reads_the_gin_index_on_postgresql(postgres_database, published):
    from django.db import connection

    published("Indexed", body="Searchable words.")
    from statements import search
    from statements.models import SearchText

    # The archive's query joins the few public revisions first; the match itself must be one the
    # index answers, for when the texts are many.
    texts = SearchText.objects.filter(selectors._TextSearch(search.parse("searchable").tsquery(), match=True))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = texts.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "searchtext_vector_gin" in plan
