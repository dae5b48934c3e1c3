"""Requests made to break the site, from the reproductions of issue 14: a NUL byte in a query
parameter (which PostgreSQL refuses), digits `int()` does not read, forms posted in a character
set Django will not decode, all answered 400 or 404 with a message, never 500."""

import pytest
from django.test import Client
from django.urls import reverse

from coalition import params

from . import factories

pytestmark = pytest.mark.django_db

UNREADABLE = "The request could not be read"


@pytest.fixture
def published(coalition, coordinator):
    return factories.make_statement(coalition, by=coordinator, status="published", title="Free the hostages",
                                    allows_individuals=True)


@pytest.fixture
def open_statement(coalition, coordinator):
    return factories.make_statement(coalition, by=coordinator, status="open", title="Open letter",
                                    allows_individuals=True)


def client() -> Client:
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("page", [
    "/statements/{slug}/?lang=uk%00", "/verify/?statement=%00", "/verify/?statement={slug}%00",
    "/statements/?q=war%00crimes", "/statements/?year=2024%00", "/statements/?page=%00",
    "/statements/?organisation=%00", "/statements/{slug}/signatories/?q=%00", "/api/statements/?q=%00",
    "/transparency/?page=1%00", "/statements/{slug}/pdf/?issue=1%00", "/i18n/language/uk/?next=/%00",
])
def test_a_nul_byte_in_a_query_parameter_answers_400(published, page):
    response = client().get(page.format(slug=published.slug))
    assert response.status_code == 400
    assert UNREADABLE in response.content.decode()


@pytest.mark.parametrize("page", ["/unsubscribe/a%00b/", "/privacy/erase/%00/", "/subscribe/confirm/%00/",
                                  "/invitations/%00/", "/statements/{slug}/sign/confirm/%00/"])
def test_a_nul_byte_in_the_path_answers_400(published, page):
    assert client().get(page.format(slug=published.slug)).status_code == 400


def test_a_nul_byte_in_a_cookie_answers_400(published):
    browser = client()
    browser.cookies["sessionid"] = "abcdefgh\x00ijkl"
    assert browser.get(published.get_absolute_url()).status_code == 400


@pytest.mark.parametrize("issue", ["²", "①", "١", "-1", "0", "1" * 40, "1.0", " 1"])
def test_an_issue_number_that_is_not_plain_digits_is_a_404(published, issue):
    response = client().get(reverse("statement_pdf", args=[published.slug]), {"issue": issue})
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize("lang", ["xx", "uk' OR 1=1", "e" * 5000, "²"])
def test_an_unknown_language_shows_the_original(published, lang):
    response = client().get(published.get_absolute_url(), {"lang": lang})
    assert response.status_code == 200 and "Free the hostages" in response.content.decode()


@pytest.mark.parametrize("statement", ["no such statement", "x" * 5000, "²", "../../etc"])
def test_verify_with_a_statement_that_is_not_a_slug_shows_the_form(statement):
    response = client().get(reverse("verify"), {"statement": statement})
    assert response.status_code == 200 and 'type="file"' in response.content.decode()


def public_forms(statement) -> list[str]:
    return [reverse("subscribe"), reverse("privacy_erase"), reverse("verify"),
            reverse("statement_sign", args=[statement.slug]), reverse("account_login"),
            reverse("account_reset_password"), reverse("set_language")]


@pytest.mark.parametrize("charset", ["utf-16", "utf-16-le", "latin-1"])
def test_a_form_posted_in_another_character_set_answers_400(open_statement, charset):
    body = "email=olena@example.org&name=Olena".encode("utf-16" if charset == "utf-16" else "latin-1")
    for address in public_forms(open_statement):
        response = client().generic("POST", address, body,
                                    content_type=f"application/x-www-form-urlencoded; charset={charset}")
        assert response.status_code == 400, address
        assert UNREADABLE in response.content.decode()


def test_a_form_field_holding_a_nul_byte_answers_400(open_statement):
    response = client().post(reverse("statement_sign", args=[open_statement.slug]),
                             {"kind": "individual", "name": "Olena\x00", "email": "olena@example.org"})
    assert response.status_code == 400
    assert not open_statement.signatures.exists()


def test_the_bad_request_page_is_in_ukrainian(published):
    response = client().get("/statements/?q=%00", HTTP_ACCEPT_LANGUAGE="uk")
    assert response.status_code == 400 and "Запит не вдалося прочитати" in response.content.decode()


@pytest.mark.parametrize("raw, number", [("1", 1), ("0042", 42), ("²", None), ("0", None), ("-3", None),
                                         ("1" * 19, None), ("", None), (None, None), ("3\x00", None)])
def test_positive_int_reads_ascii_digits_only(raw, number):
    assert params.positive_int(raw) == number


@pytest.mark.parametrize("raw, slug", [("stop-the-war", "stop-the-war"), ("a\x00", None), ("", None),
                                       ("a b", None), ("ü", None), ("x" * 256, None)])
def test_slug_accepts_what_the_urls_accept(raw, slug):
    assert params.slug(raw) == slug
