"""/verify/: anyone checks whether a PDF (or a SHA-256) is one we published, unchanged."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from statements import pdf, signing

from .test_publishing import closed_statement, publish

pytestmark = pytest.mark.django_db

VERIFY = "/verify/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def published(coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    return publish(statement, coordinator, django_capture_on_commit_callbacks)


def upload(client, data: bytes, name="statement.pdf"):
    return client.post(VERIFY, {"file": SimpleUploadedFile(name, data, "application/pdf")})


def test_verify_is_at_its_public_address():
    assert reverse("verify") == VERIFY


def test_a_published_pdf_is_authentic_with_its_issue_signer_and_time(published, client):
    response = upload(client, published.pdf.read())
    page = response.content.decode()
    assert response.status_code == 200
    assert "Authentic" in page and "Issue 1 of “Stop the deportations”" in page
    assert "Test Coalition" in page and "the signature is intact" in page


def test_its_sha256_answers_the_same(published, client):
    page = client.get(VERIFY, {"sha256": published.sha256.upper()}).content.decode()
    assert "Authentic" in page and "Issue 1 of" in page


def test_a_byte_flipped_after_signing_is_detected(published, client):
    data = bytearray(published.pdf.read())
    at = data.index(b"Stop the deportations") if b"Stop the deportations" in data else len(data) // 3
    data[at] ^= 0x01
    page = upload(client, bytes(data)).content.decode()
    assert "This file was changed after signing" in page


def test_an_unknown_pdf_and_an_unknown_hash_are_not_ours(published, client):
    unsigned = pdf.html_to_pdf("<p>Something else</p>", pdf_variant=None)
    assert "Not a document we published" in upload(client, unsigned).content.decode()
    assert "Not a document we published" in client.post(VERIFY, {"sha256": "ab" * 32}).content.decode()


def test_a_non_pdf_upload_is_refused_with_a_message(client):
    response = upload(client, b"MZ\x90\x00 not a pdf at all", name="looks-like.pdf")
    assert response.status_code == 400 and "This is not a PDF file." in response.content.decode()


def test_an_oversized_upload_is_refused_with_a_message(client, settings):
    settings.VERIFY_MAX_UPLOAD_BYTES = 1024
    response = upload(client, b"%PDF-1.7\n" + b"0" * 2048)
    assert response.status_code == 413 and "The file is too large" in response.content.decode()


@pytest.mark.parametrize("value", ["abc", "z" * 64, "0" * 63])
def test_a_malformed_hash_is_refused_with_a_message(client, value):
    response = client.post(VERIFY, {"sha256": value})
    assert response.status_code == 400 and "64 hexadecimal characters" in response.content.decode()


def test_nothing_given_asks_for_one_of_the_two(client):
    response = client.post(VERIFY, {})
    assert response.status_code == 400 and "one of the two" in response.content.decode()


def test_the_root_certificate_and_its_fingerprint_are_downloadable(client):
    page = client.get(VERIFY).content.decode()
    assert signing.fingerprint(signing.trust_root()) in page
    response = client.get(reverse("verify_root"))
    assert response.status_code == 200 and response.content == signing.trust_root_pem()


def test_the_page_keeps_its_csrf_token_and_is_not_cached(client):
    response = client.get(VERIFY)
    assert "csrfmiddlewaretoken" in response.content.decode()
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_the_short_link_in_the_pdf_leads_to_the_statements_issues(published, client):
    statement = published.statement
    response = client.get(reverse("short_link", args=[statement.pk]), follow=True)
    assert published.sha256 in response.content.decode()


def test_a_published_hash_is_recognised_even_if_our_copy_cannot_be_read(published, client):
    published.pdf.storage.delete(published.pdf.name)
    response = client.post(VERIFY, {"sha256": published.sha256})
    assert response.status_code == 200 and "Issue 1 of" in response.content.decode()
