"""Lists that stay small: the statement page names organisations in full and individuals as a
count with the most recent names; /statements/<slug>/signatories/ pages and searches all of them;
the API pages them; the coordinators' CSV streams."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from statements import services
from statements.services import cosigning
from statements.models import Signature
from statements.services import Draft

from .factories import MembershipFactory, OrganisationRoleFactory, make_statement

pytestmark = pytest.mark.django_db


def add_individuals(statement, count, *, start=0, revision=None, affiliation="Lawyer", **fields):
    """`count` confirmed individuals, "Person 00000" first, each confirmed a minute after the last."""
    revision = revision or statement.signed_revision
    base = timezone.now() - timedelta(days=30)
    return Signature.objects.bulk_create(
        Signature(statement=statement, revision=revision, sha256=revision.sha256, kind=Signature.Kind.INDIVIDUAL,
                  name=f"Person {n:05d}", affiliation=affiliation, email=f"person{n}-{statement.slug}@example.org",
                  confirmed_at=base + timedelta(minutes=n), **fields)
        for n in range(start, start + count))


def individual(statement, name, **fields):
    revision = fields.pop("revision", statement.signed_revision)
    return Signature.objects.create(statement=statement, revision=revision, sha256=revision.sha256,
                                    kind=Signature.Kind.INDIVIDUAL, name=name,
                                    email=fields.pop("email", f"{name.split()[0].lower()}@example.org"),
                                    **{"confirmed_at": timezone.now(), **fields})


@pytest.fixture
def petition(coalition, coordinator):
    """Open to individuals (so public while open), with one organisation and 250 individuals."""
    statement = make_statement(coalition, by=coordinator, status="open", title="Free the journalists",
                               allows_individuals=True)
    organisation = MembershipFactory(coalition=coalition, organisation__name="Truth Hounds").organisation
    signer = OrganisationRoleFactory(organisation=organisation, can_sign=True).user
    cosigning.sign_for_organisation(statement, by=signer, organisation=organisation,
                                    sha256=statement.signed_revision.sha256)
    add_individuals(statement, 250)
    return statement


def get(client, url, status=200, **query):
    response = client.get(url, query)
    assert response.status_code == status
    return response.content.decode()


def list_url(statement):
    return reverse("statement_signatories", args=[statement.slug])


def listed_names(page: str, list_class: str = "columns signatory-list") -> list[str]:
    """The names in the page's list of signatories (the first list with `list_class`), in order."""
    section = page.split(f'class="{list_class}')[1].split("</ol>")[0].split("</ul>")[0]
    return [item.split(">", 1)[1].split("<")[0] for item in section.split("<li")[1:]]


# The statement page ----------------------------------------------------------------------------


def test_statement_page_names_organisations_counts_individuals_and_shows_the_newest_twenty(client, petition):
    page = get(client, petition.get_absolute_url())
    assert "Truth Hounds" in page and "1 organisation" in page
    assert "250 individuals" in page
    assert "The 20 most recent, newest first:" in page
    assert listed_names(page, "columns signatory-list recent-individuals") == [
        f"Person {n:05d}" for n in range(249, 229, -1)]
    assert "Person 00229" not in page and "Person 00000" not in page
    assert f'href="{list_url(petition)}"' in page and "All 250 individual signatories, with a search" in page


def test_a_new_confirmation_goes_to_the_top_of_the_recent_names(client, petition):
    individual(petition, "Newest Signer")
    page = get(client, petition.get_absolute_url())
    assert "251 individuals" in page
    assert page.index("Newest Signer") < page.index("Person 00249")


def test_with_few_individuals_all_are_named_and_the_list_is_still_linked(client, coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True)
    add_individuals(statement, 3)
    page = get(client, statement.get_absolute_url())
    assert "3 individuals" in page and "most recent" not in page
    assert all(f"Person {n:05d}" in page for n in range(3))
    assert "The list of individual signatories, with a search" in page


# The list of signatories ------------------------------------------------------------------------


def test_the_list_pages_every_individual_in_the_order_they_signed(client, petition):
    first = get(client, list_url(petition))
    assert "250 individuals, in the order they signed" in first
    assert listed_names(first) == [f"Person {n:05d}" for n in range(100)]
    assert '<ol class="columns signatory-list" start="1">' in first
    assert 'aria-label="Pages of the list of signatories"' in first and "Page 1 of 3" in first
    assert 'rel="next" href="?page=2"' in first and 'rel="prev"' not in first
    third = get(client, list_url(petition), page=3)
    assert listed_names(third) == [f"Person {n:05d}" for n in range(200, 250)]
    assert 'start="201"' in third and 'rel="prev" href="?page=2"' in third and 'rel="next"' not in third
    assert "Lawyer" in third and "Truth Hounds" not in third  # organisations: on the statement page
    assert "1 organisation signed too" in third


@pytest.mark.parametrize("page, shown", [("abc", 1), ("0", 3), ("999", 3), ("last", 3)])
def test_a_page_number_that_is_not_one_shows_the_nearest_page(client, petition, page, shown):
    assert f"Page {shown} of 3" in get(client, list_url(petition), page=page)


def test_search_finds_names_and_affiliations_case_insensitively_and_pages_the_matches(client, petition):
    add_individuals(petition, 2, start=900, affiliation="Kharkiv Human Rights Group")
    found = get(client, list_url(petition), q="person 0001")
    assert listed_names(found) == [f"Person {n:05d}" for n in range(10, 20)]
    assert "10 individuals match “person 0001”" in found and 'value="person 0001"' in found
    assert "Page 1 of" not in found
    by_affiliation = get(client, list_url(petition), q="KHARKIV")
    assert listed_names(by_affiliation) == ["Person 00900", "Person 00901"]
    many = get(client, list_url(petition), q="person", page=2)
    assert "252 individuals match" in many and "Page 2 of 3" in many
    assert 'href="?q=person&amp;page=3"' in many  # the search is kept from page to page
    nothing = get(client, list_url(petition), q="Nobody Like This")
    assert "0 individuals match" in nothing and "Nobody on the list matches" in nothing


def test_words_too_long_to_be_a_name_answer_400_keeping_them(client, petition):
    words = "x" * 201
    page = get(client, list_url(petition), status=400, q=words)
    assert "Ensure this value has at most 200 characters" in page and f'value="{words}"' in page


def test_the_list_never_shows_an_address_an_unconfirmed_hidden_withdrawn_or_earlier_signature(
        client, coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True,
                               title="Changed while open")
    earlier = statement.signed_revision
    individual(statement, "Stale Signer")
    new = services.save_revision(statement, by=coordinator, based_on=earlier,
                                 draft=Draft("Changed while open", "", "A better text."))
    statement.refresh_from_db()
    individual(statement, "Shown Signer", email="shown.signer@example.org", affiliation="Journalist")
    individual(statement, "Unconfirmed Signer", confirmed_at=None)
    individual(statement, "Hidden Signer", hidden_at=timezone.now(), hidden_reason="Abuse")
    individual(statement, "Withdrawn Signer", withdrawn_at=timezone.now())
    assert statement.signed_revision == new
    for url in (list_url(statement), statement.get_absolute_url()):
        page = get(client, url)
        assert "Shown Signer" in page and "Journalist" in page and "1 individual" in page
        for absent in ("Stale", "Unconfirmed", "Hidden Signer", "Withdrawn Signer", "@example.org"):
            assert absent not in page
    assert "Shown Signer" in get(client, list_url(statement), q="shown")
    assert "Stale Signer" not in get(client, list_url(statement), q="stale")


def test_member_staff_see_individuals_on_an_earlier_text_counted_beyond_the_first_hundred(
        client, coalition, coordinator, staff):
    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True)
    first = statement.signed_revision
    add_individuals(statement, 105, revision=first)
    services.save_revision(statement, by=coordinator, based_on=first, draft=Draft("New", "", "New text."))
    client.force_login(staff)
    page = get(client, statement.get_absolute_url())
    earlier = page.split("Signed an earlier text, not yet confirmed")[1].split("</section>")[0]
    assert earlier.count("signed an earlier text") == 100 and "and 5 more individuals" in earlier
    client.logout()
    public = get(client, statement.get_absolute_url())
    assert "Person 00000" not in public and "earlier text" not in public


@pytest.mark.parametrize("status, allows_individuals, visible", [
    ("draft", True, False), ("open", False, False), ("closed", True, False),
    ("open", True, True), ("published", False, True),
])
def test_the_list_is_public_exactly_when_the_statement_is(client, coalition, coordinator, outsider, staff,
                                                          status, allows_individuals, visible):
    statement = make_statement(coalition, by=coordinator, status=status, allows_individuals=allows_individuals)
    for user in (None, outsider):
        if user:
            client.force_login(user)
        assert client.get(list_url(statement)).status_code == (200 if visible else 404)
        assert client.get(statement.get_absolute_url()).status_code == (200 if visible else 404)
    client.force_login(staff)  # member staff see a statement before it is public; a draft has no list
    assert client.get(list_url(statement)).status_code == (404 if status == "draft" else 200)


def test_the_list_in_ukrainian(client, petition):
    client.cookies["django_language"] = "uk"
    page = get(client, list_url(petition), q="person")
    assert '<html lang="uk">' in page
    assert "Фізичні особи, які підписали" in page and "250 осіб відповідають" in page
    assert 'aria-label="Сторінки списку підписантів"' in page and "Сторінка 1 з 3" in page
    statement_page = get(client, petition.get_absolute_url())
    assert "Усі фізичні особи, які підписали (250), з пошуком" in statement_page and "250 осіб" in statement_page


# The API and the CSV ------------------------------------------------------------------------------


def test_api_gives_the_individual_count_and_pages_the_names_500_at_a_time(
        client, coalition, coordinator, settings):
    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True,
                               title="Many signed")
    add_individuals(statement, 1001)
    individual(statement, "Hidden Signer", hidden_at=timezone.now(), hidden_reason="Abuse")
    assert client.get(reverse("api_statement_signatories", args=[statement.slug])).status_code == 404  # not published
    services.close_signing(statement, by=coordinator)
    services.publish(statement, by=coordinator)
    detail = client.get(reverse("api_statement", args=[statement.slug])).json()
    assert detail["signatories"]["individual_count"] == 1001
    assert "individuals" not in detail["signatories"]
    first = client.get(detail["signatories"]["individuals_url"].removeprefix(settings.SITE_URL)).json()
    assert first["count"] == 1001 and first["pages"] == 3 and first["page"] == 1 and first["previous"] is None
    assert first["results"][0] == {"name": "Person 00000", "affiliation": "Lawyer"} and len(first["results"]) == 500
    assert first["next"] == f"{settings.SITE_URL}/api/statements/{statement.slug}/signatories/?page=2"
    third = client.get(client.get(first["next"].removeprefix(settings.SITE_URL)).json()["next"]
                       .removeprefix(settings.SITE_URL)).json()
    assert third["results"] == [{"name": "Person 01000", "affiliation": "Lawyer"}] and third["next"] is None
    assert third["previous"].endswith("?page=2")
    assert "example.org" not in str(first) + str(third) and "Hidden" not in str(third)


def test_the_signatures_csv_streams_the_same_rows(client, coalition, coordinator):
    statement = make_statement(coalition, by=coordinator, status="open", allows_individuals=True, title="Заява")
    add_individuals(statement, 2500)
    individual(statement, "=HYPERLINK(\"http://x\")", email="formula@example.org")
    client.force_login(coordinator)
    response = client.get(reverse("statement_signatures_csv", args=[statement.slug]))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["kind", "organisation", "name", "affiliation", "email", "signed_by", "signed_at",
                       "confirmed_at", "revision", "sha256", "current_text", "organisation_uk"]
    assert len(rows) == 1 + 2501
    assert rows[1][:5] == ["individual", "", "Person 00000", "Lawyer", f"person0-{statement.slug}@example.org"]
    assert rows[2500][2] == "Person 02499"
    assert rows[-1][2] == "'=HYPERLINK(\"http://x\")"  # still a spreadsheet-safe cell


# The coordinators' roster -----------------------------------------------------------------------


def test_the_roster_pages_individuals_newest_first_and_finds_them_by_address(client, petition, coordinator):
    individual(petition, "Unconfirmed Signer", email="pending.person@example.net", confirmed_at=None)
    client.force_login(coordinator)
    url = reverse("statement_roster", args=[petition.slug])
    first = get(client, url)
    section = first.split('id="individuals-heading"')[1].split("</section>")[0]
    assert "251 individual signatures (confirmed or not), newest first." in section
    assert section.count('name="reason"') == 100  # one hiding form per signature shown
    assert "Unconfirmed Signer" in section and "Person 00249" in section and "Person 00150" not in section
    assert 'aria-label="Pages of individual signatures"' in section and "Page 1 of 3" in section
    last = get(client, url, page=3).split('id="individuals-heading"')[1]
    assert "Person 00000" in last and "Person 00050" in last and "Person 00051" not in last
    found = get(client, url, q="PENDING.PERSON").split('id="individuals-heading"')[1].split("</section>")[0]
    assert "1 individual signature matches." in found and "Unconfirmed Signer" in found and "Person 0" not in found
    assert "Truth Hounds" in get(client, url, page=2)  # the organisations stay on every page
    too_long = get(client, url, status=400, q="x" * 201)
    assert "Ensure this value has at most 200 characters" in too_long


def test_the_roster_in_ukrainian(client, petition, coordinator):
    client.force_login(coordinator)
    client.cookies["django_language"] = "uk"
    page = get(client, reverse("statement_roster", args=[petition.slug]))
    assert "250 підписів фізичних осіб (підтверджених чи ні), найновіші першими." in page
    assert 'aria-label="Сторінки підписів фізичних осіб"' in page
