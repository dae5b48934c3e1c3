"""Individual signatories in the published PDF (statements/pdf.py, templates/pdf/statement.html):
printed as running text in an annex after the verification block, up to
PDF_MAX_PRINTED_INDIVIDUALS; above it, the PDF prints their number and where the names are (the
files it carries, the statement's signatories page), and the embedded files still list everyone."""

import csv
import io
import re
import subprocess

import pytest
from django.utils import timezone
from pypdf import PdfReader

from statements import pdf, services
from statements.services import publishing
from statements.models import Signature

from . import factories
from .helpers import attachments, make_document

SIGNATORIES_URL = "https://statements.example.org/statements/icc-warrants/signatories/"


def people(count: int) -> list[pdf.Signatory]:
    return [pdf.Signatory(f"Person{n:05d} Signer", f"Group{n:05d}" if n % 3 == 0 else "") for n in range(count)]


def pages_text(data: bytes) -> list[str]:
    text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return text.split("\f")[:-1]


def flat(value: str) -> str:
    return "".join(value.split())


def running_text(pages: list[str]) -> str:
    """The pages' text without their running headers and footers, which a name broken across two
    pages would otherwise have in its middle."""
    document = make_document()
    margins = (document.coalition_name, document.title[:40], "Verify:", "Page ", "Перевірка:", "Сторінка ")
    return "\n".join(line for page in pages for line in page.splitlines() if not line.startswith(margins))


def test_individuals_up_to_the_limit_are_printed_in_an_annex_on_pages_after_the_verification_block(settings):
    settings.PDF_MAX_PRINTED_INDIVIDUALS = 60
    data = pdf.render_pdf(make_document(individuals=people(60), signatories_url=SIGNATORIES_URL))
    pages = pages_text(data)
    text = "\n".join(pages)
    assert "60 осіб" in text.lower()
    assert "Їхні імена надруковано в додатку наприкінці цього документа." in text
    [annex_start] = [i for i, page in enumerate(pages) if "Додаток: фізичні особи, які підписали" in page]
    assert all("Перевірте цей документ" not in page for page in pages[annex_start:])
    assert "Перевірте цей документ" in pages[annex_start - 1]  # the annex begins on a page of its own
    annex = flat(running_text(pages[annex_start:]))
    # Every name once, in the order they signed, each with its affiliation in brackets.
    positions = [annex.index(flat(person.name)) for person in people(60)]
    assert positions == sorted(positions)
    assert all(annex.count(flat(person.name)) == 1 for person in people(60))
    assert "PersonSigner" not in annex  # no name's words run into each other
    assert flat("Person00003 Signer (Group00003) · Person00004 Signer · Person00005 Signer") in annex
    assert SIGNATORIES_URL not in flat(text)


def test_above_the_limit_the_pdf_prints_the_count_and_where_the_names_are_but_not_the_names(settings):
    settings.PDF_MAX_PRINTED_INDIVIDUALS = 60
    everyone = people(61)
    document = make_document(language="en", individuals=everyone, signatories_url=SIGNATORIES_URL)
    signed = pdf.sign_pdf(pdf.render_pdf(document), language="en")
    text = "\n".join(pages_text(signed))
    assert "61 individuals" in text.lower()  # the heading is in capitals
    assert "Too many to print" in text and "signatories.csv" in text and "signatories.json" in text
    assert SIGNATORIES_URL in flat(text)
    assert "Person0" not in text and "Group0" not in text
    assert "Annex" not in text
    assert len(PdfReader(io.BytesIO(signed)).pages) <= 2

    carried = pdf.embedded_signatories(signed)
    assert carried["individuals"] == [{"name": p.name, "affiliation": p.affiliation} for p in everyone]
    rows = list(csv.reader(io.StringIO(attachments(signed)["signatories.csv"].decode("utf-8")[1:])))
    assert [row[4] for row in rows[1:] if row[3] == "individual"] == [p.name for p in everyone]
    assert pdf.verify_pdf(signed).authentic


def test_the_ukrainian_pdf_says_in_ukrainian_where_the_names_are(settings):
    settings.PDF_MAX_PRINTED_INDIVIDUALS = 1
    text = "\n".join(pages_text(pdf.render_pdf(make_document(individuals=people(2),
                                                            signatories_url=SIGNATORIES_URL))))
    assert "2 особи" in text.lower()
    assert "Забагато, щоб надрукувати" in text and "signatories.csv" in text
    assert SIGNATORIES_URL in flat(text)


def test_a_thousand_names_fill_a_few_pages_and_stay_inside_the_margins():
    long_name = "Л" * 180  # no space to break at: it must wrap, not run off the page
    everyone = [pdf.Signatory(long_name)] + people(999)
    data = pdf.render_pdf(make_document(language="en", individuals=everyone))
    page_count = len(PdfReader(io.BytesIO(data)).pages)
    assert 3 <= page_count <= 10
    layout = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=data, capture_output=True,
                            check=True).stdout.decode()
    right_edges = [float(x) for x in re.findall(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)"', layout)]
    text_edge = 595.28 - 20 / 25.4 * 72  # A4 less the right margin (20 mm)
    assert right_edges and max(right_edges) <= text_edge + 1
    words = flat(running_text(pages_text(data)))
    assert long_name in words and all(flat(p.name) in words for p in everyone[1:])


@pytest.mark.django_db
def test_a_published_issue_above_the_limit_names_the_statements_signatories_page(
        settings, tmp_path, coalition, coordinator, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PDF_MAX_PRINTED_INDIVIDUALS = 2
    statement = factories.make_statement(coalition, by=coordinator, status="open", title="Free the hostages",
                                         language="en", allows_individuals=True)
    for n in range(3):
        Signature.objects.create(
            statement=statement, revision=statement.signed_revision, sha256=statement.signed_revision.sha256,
            kind=Signature.Kind.INDIVIDUAL, name=f"Named Person {n}", email=f"person{n}@example.org",
            confirmed_at=timezone.now(),
        )
    services.close_signing(statement, by=coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish(statement, by=coordinator)
    data = statement.publications.get(number=1).pdf.read()

    text = flat("\n".join(pages_text(data)))
    assert flat(f"{settings.SITE_URL}/statements/{statement.slug}/signatories/") in text
    assert publishing.signatories_url(statement).endswith(f"/statements/{statement.slug}/signatories/")
    assert "NamedPerson" not in text and "3individuals" in text.lower()
    assert [p["name"] for p in pdf.embedded_signatories(data)["individuals"]] == [f"Named Person {n}" for n in range(3)]
    assert pdf.verify_pdf(data).authentic
