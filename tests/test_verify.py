"""/verify/: anyone checks whether a PDF (or a SHA-256) is one we published, unchanged."""

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from statements import pdf, pdf_signing, services
from statements.services import publishing
from statements.models import Publication

from .helpers import VERIFY, closed_statement, media, publish, published_issue, upload  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

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
    assert pdf_signing.fingerprint(pdf_signing.trust_root()) in page
    response = client.get(reverse("verify_root"))
    assert response.status_code == 200 and response.content == pdf_signing.trust_root_pem()


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


# What an authentic issue stands for today ------------------------------------------------------


def withdraw(statement, coordinator, reason="The facts in paragraph 2 proved wrong."):
    services.withdraw(statement, by=coordinator, reason=reason)
    statement.refresh_from_db()
    return statement


def correct(statement, coordinator, capture, note):
    with capture(execute=True):
        publication = publishing.publish_correction(statement, by=coordinator, note=note)
    publication.refresh_from_db()
    return publication


def answer(client, publication, how):
    """The verify page's answer section, asked by uploading the issue's file or by its SHA-256."""
    if how == "upload":
        with publication.pdf.open("rb") as stored:
            response = upload(client, stored.read())
    else:
        response = client.get(VERIFY, {"sha256": publication.sha256})
    assert response.status_code == 200
    page = response.content.decode()
    start = page.index('<section class="verify-answer')
    return " ".join(page[start:page.index("</section>", start)].split())


HOW = ["upload", "sha256"]


@pytest.mark.parametrize("how", HOW)
def test_the_current_issue_says_it_is_current_with_its_certificate_and_signing_time(published, client, how):
    text = answer(client, published, how)
    assert "Authentic: a statement we published" in text
    assert "This is the statement's current issue: it has not been corrected or withdrawn." in text
    assert f'href="{published.statement.get_absolute_url()}">Stop the deportations</a>' in text
    assert published.certificate_sha256 in text and len(published.certificate_sha256) == 64
    assert "not timestamped" in text and "Test Coalition" in text
    assert "withdrew" not in text and "superseded" not in text


@pytest.mark.parametrize("how", HOW)
def test_a_withdrawn_statements_pdf_is_authentic_but_says_withdrawn_when_and_why(
        published, coordinator, client, how):
    statement = withdraw(published.statement, coordinator)
    text = answer(client, published, how)
    when = timezone.localtime(statement.withdrawn_at)
    assert "Authentic, but the coalition has withdrawn this statement" in text
    assert "Authentic: a statement we published" not in text
    assert f"The coalition withdrew this statement on {when:%-d %B %Y, %H:%M}" in text
    assert "The facts in paragraph 2 proved wrong." in text
    assert "current issue" not in text
    assert 'class="verify-answer notice warn"' in text


@pytest.mark.parametrize("how", HOW)
def test_a_withdrawn_statements_pdf_says_so_in_ukrainian(published, coordinator, client, how):
    statement = withdraw(published.statement, coordinator, reason="Факти в абзаці 2 виявилися хибними.")
    client.cookies["django_language"] = "uk"
    text = answer(client, published, how)
    with translation.override("uk"):
        when = formats.date_format(timezone.localtime(statement.withdrawn_at), "j E Y, H:i")
    assert "Справжній, але коаліція відкликала цю заяву" in text
    assert f"Коаліція відкликала цю заяву {when}" in text
    assert "Факти в абзаці 2 виявилися хибними." in text
    assert "Authentic" not in text and "withdrew" not in text


@pytest.mark.slow
@pytest.mark.parametrize("how", HOW)
def test_a_superseded_issue_names_the_correction_its_note_and_links_to_it(
        published, coordinator, client, how, django_capture_on_commit_callbacks):
    statement = published.statement
    second = correct(statement, coordinator, django_capture_on_commit_callbacks, "A signatory's name was misspelt.")
    text = answer(client, published, how)
    assert "Authentic, but a later issue corrects it" in text
    assert "This issue was superseded by issue 2, published on" in text
    assert "Issue 2 corrects: A signatory&#x27;s name was misspelt." in text
    assert f'href="{reverse("statement_pdf", args=[statement.slug])}?issue=2"' in text
    assert f'href="{statement.get_absolute_url()}#issue-2"' in text
    assert "current issue" not in text
    newest = answer(client, second, how)
    assert "Authentic: a statement we published" in newest and "current issue" in newest
    assert "Issue 2 of “Stop the deportations”" in newest


@pytest.mark.slow
@pytest.mark.parametrize("how", HOW)
def test_a_superseded_issue_says_so_in_ukrainian(
        published, coordinator, client, how, django_capture_on_commit_callbacks):
    correct(published.statement, coordinator, django_capture_on_commit_callbacks, "Виправлено назву організації.")
    client.cookies["django_language"] = "uk"
    text = answer(client, published, how)
    assert "Справжній, але пізніший випуск його виправляє" in text
    assert "Цей випуск замінено випуском 2" in text
    assert "Випуск 2 виправляє: Виправлено назву організації." in text
    assert "Authentic" not in text and "superseded" not in text


def test_an_old_issue_of_a_withdrawn_statement_says_both(
        published, coordinator, client, django_capture_on_commit_callbacks):
    correct(published.statement, coordinator, django_capture_on_commit_callbacks, "Second paragraph reworded.")
    correct(published.statement, coordinator, django_capture_on_commit_callbacks, "A date fixed.")
    withdraw(published.statement, coordinator)
    text = answer(client, published, "sha256")
    assert "Authentic, but the coalition has withdrawn this statement" in text
    assert "The facts in paragraph 2 proved wrong." in text
    assert "This issue was superseded by issue 3" in text
    assert "Issue 2 corrects: Second paragraph reworded." in text and "Issue 3 corrects: A date fixed." in text


def test_a_correction_not_yet_public_does_not_supersede_the_issue(published, coordinator, client):
    # Its PDF is still being prepared (the task queued after commit has not run).
    publishing.publish_correction(published.statement, by=coordinator, note="Not yet public.")
    assert published.statement.publications.get(number=2).state == Publication.State.PENDING
    text = answer(client, published, "sha256")
    assert "current issue" in text and "Not yet public." not in text and "superseded" not in text


def test_the_statements_issue_list_says_it_was_withdrawn(published, coordinator, client):
    withdraw(published.statement, coordinator)
    page = client.get(VERIFY, {"statement": published.statement.slug}).content.decode()
    assert "The coalition withdrew this statement on" in page and "The facts in paragraph 2 proved wrong." in page


@pytest.mark.slow
def test_a_timestamped_long_term_file_says_its_time_is_certified_and_it_carries_its_proof(
        coalition, coordinator, signer, member_org, timestamp_authority, client, django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    text = answer(client, publish(statement, coordinator, django_capture_on_commit_callbacks), "upload")
    assert "Authentic: a statement we published" in text
    assert "time certified by a timestamp authority" in text and "not timestamped" not in text
    assert "so it can be checked offline for years to come" in text and "Sealed by a document timestamp on" in text
