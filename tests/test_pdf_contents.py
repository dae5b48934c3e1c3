"""What the published PDF carries besides its printed pages: a tagged structure for screen
readers (PDF/A-3a) and its signatory list as embedded, associated files (statements/pdf.py,
statements/embedded.py), through signing, publishing, /verify/ and the API."""

import csv
import io
import json
import subprocess
import zlib

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from statements import embedded, pdf, services

from .helpers import attachments, closed_statement, make_document

ORGANISATIONS = [
    pdf.SignedOrganisation("Truth Hounds", "truth-hounds", "a" * 64, "2024-09-01T10:00:00+03:00"),
    pdf.SignedOrganisation("=HYPERLINK(\"http://evil.example\")", "evil", "b" * 64, "2024-09-02T11:00:00+03:00"),
    pdf.SignedOrganisation("Харківська правозахисна група", "khpg", "a" * 64, "2024-09-02T12:30:00+03:00"),
]
INDIVIDUALS = [pdf.Signatory("Олена Коваленко", "Truth Hounds"), pdf.Signatory("+380 Andriy Melnyk")]


@pytest.fixture(scope="module")
def document():
    return make_document(slug="icc-warrants", issue=2, organisations=ORGANISATIONS, individuals=INDIVIDUALS)


@pytest.fixture
def signed(document):
    return pdf.sign_pdf(pdf.render_pdf(document), signer_name=document.coalition_name, language="uk")


def structure(data: bytes) -> list[str]:
    """The structure types of the tagged tree, depth first: the reading order."""
    found = []
    with pikepdf.open(io.BytesIO(data)) as document:
        stack = [document.Root.StructTreeRoot.K]
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Array):
                stack.extend(reversed(list(node)))
            elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
                found.append(str(node.S))
                if "/K" in node:
                    stack.append(node.K)
    return found


# Tagged, accessible PDF ------------------------------------------------------------------------


def test_signed_pdf_is_tagged_in_the_documents_language_with_headings_paragraphs_and_lists(signed):
    with pikepdf.open(io.BytesIO(signed)) as document:
        assert "/StructTreeRoot" in document.Root
        assert document.Root.MarkInfo.Marked is True
        assert str(document.Root.Lang) == "uk"
    tags = structure(signed)
    assert {"/Document", "/H1", "/H2", "/H3", "/P", "/L", "/LI", "/Art", "/Figure"} <= set(tags)
    # Reading order: the title, then the text, then the signatories, then how to verify.
    assert tags.index("/H1") < tags.index("/Art") < tags.index("/L") < len(tags) - tags[::-1].index("/H2")
    assert tags.count("/LI") == len(ORGANISATIONS)
    # Last, the annex of individuals: its heading, a note, the names as a paragraph of running text.
    annex = tags[len(tags) - tags[::-1].index("/Sect") - 1 :]
    assert annex[:2] == ["/Sect", "/H2"] and annex.count("/P") == 2 and "/L" not in annex
    info = subprocess.run(["pdfinfo", "-"], input=signed, capture_output=True, check=True).stdout.decode()
    assert "Tagged:          yes" in info


def test_english_statement_declares_english():
    data = pdf.render_pdf(make_document(language="en"))
    with pikepdf.open(io.BytesIO(data)) as document:
        assert str(document.Root.Lang) == "en"


def test_images_and_the_signature_stamp_carry_alternative_text(signed, document):
    with pikepdf.open(io.BytesIO(signed)) as opened:
        stack, figures = [opened.Root.StructTreeRoot.K], []
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Array):
                stack.extend(node)
            elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
                if node.S == "/Figure":
                    figures.append(str(node.get("/Alt", "")))
                if "/K" in node:
                    stack.append(node.K)
        [field] = [f for f in opened.Root.AcroForm.Fields if f.FT == "/Sig"]
        stamp_text = str(field.TU)
    assert len(figures) == 2 and all(figures)  # the logo and the QR code
    assert "QR-код" in " ".join(figures)
    assert stamp_text == f"Підписано електронним підписом {document.coalition_name}"


def test_signing_keeps_the_tags_and_the_signature_covers_the_whole_file(signed, signing_identity, tmp_path):
    assert pdf.verify_pdf(signed).authentic
    assert structure(signed) == structure(pdf.render_pdf(make_document(
        slug="icc-warrants", issue=2, organisations=ORGANISATIONS, individuals=INDIVIDUALS)))
    nss = f"sql:{tmp_path}"
    subprocess.run(["certutil", "-N", "--empty-password", "-d", nss], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-n", "root", "-t", "CT,C,C", "-i", str(signing_identity.root_cert),
                    "-d", nss], check=True, capture_output=True)
    path = tmp_path / "statement.pdf"
    path.write_bytes(signed)
    report = subprocess.run(["pdfsig", "-nssdir", nss, str(path)], capture_output=True, text=True).stdout
    assert "Signature is Valid." in report
    assert "Total document signed" in report


# The signatory list inside the file ------------------------------------------------------------


def test_signed_pdf_carries_its_signatories_as_associated_json_and_csv(signed, document):
    with pikepdf.open(io.BytesIO(signed)) as opened:
        associated = {str(spec.UF): str(spec.AFRelationship) for spec in opened.Root.AF}
        subtypes = {name: str(spec.obj.EF.F.Subtype) for name, spec in opened.attachments.items()}
    assert associated == {"signatories.json": "/Data", "signatories.csv": "/Data"}
    assert subtypes == {"signatories.json": "/application/json", "signatories.csv": "/text/csv"}
    files = attachments(signed)

    carried = json.loads(files["signatories.json"])
    assert carried == {
        "statement": "icc-warrants", "issue": 2, "text_sha256": document.text_sha256,
        "organisations": [{"name": o.name, "slug": o.slug, "sha256": o.sha256, "signed_at": o.signed_at}
                          for o in ORGANISATIONS],
        "individuals": [{"name": "Олена Коваленко", "affiliation": "Truth Hounds"},
                        {"name": "+380 Andriy Melnyk", "affiliation": ""}],
    }
    assert pdf.embedded_signatories(signed) == carried

    text = files["signatories.csv"].decode("utf-8")
    assert text.startswith("\ufeff")  # so that Excel reads Cyrillic
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert rows[0] == pdf.CSV_COLUMNS
    assert [row[3:6] for row in rows[1:]] == [
        ["organisation", "Truth Hounds", "truth-hounds"],
        ["organisation", "'=HYPERLINK(\"http://evil.example\")", "evil"],  # opens as text, not a formula
        ["organisation", "Харківська правозахисна група", "khpg"],
        ["individual", "Олена Коваленко", ""],
        ["individual", "'+380 Andriy Melnyk", ""],
    ]
    assert all(row[:3] == ["icc-warrants", "2", document.text_sha256] for row in rows[1:])
    assert rows[2][7:] == ["b" * 64, "2024-09-02T11:00:00+03:00"]
    assert rows[4][6] == "Truth Hounds"


def test_pdfdetach_lists_the_signatory_files(signed, tmp_path):
    path = tmp_path / "statement.pdf"
    path.write_bytes(signed)
    listing = subprocess.run(["pdfdetach", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert "2 embedded files" in listing
    assert "signatories.json" in listing and "signatories.csv" in listing


def test_changing_the_embedded_list_after_signing_breaks_the_signature(signed):
    with pikepdf.open(io.BytesIO(signed)) as opened:
        spec = opened.attachments["signatories.json"]
        carried = json.loads(spec.get_file().read_bytes())
        carried["organisations"].append({"name": "Added Later", "slug": "", "sha256": "", "signed_at": ""})
        spec.obj.EF.F.write(json.dumps(carried).encode())
        output = io.BytesIO()
        opened.save(output)
    changed = output.getvalue()
    assert pdf.embedded_signatories(changed)["organisations"][-1]["name"] == "Added Later"
    assert not pdf.verify_pdf(changed).authentic


def test_a_file_without_a_list_or_with_a_bad_one_reads_as_none():
    assert pdf.embedded_signatories(b"") is None
    assert pdf.embedded_signatories(b"%PDF-1.7 junk") is None
    assert pdf.embedded_signatories(pdf.html_to_pdf("<p>No list</p>", pdf_variant=None)) is None
    bad = pdf.html_to_pdf("<p>Bad list</p>", files=[pdf.EmbeddedFile("signatories.json", b'{"organisations": 3}')])
    assert pdf.embedded_signatories(bad) is None
    not_json = pdf.html_to_pdf("<p>x</p>", files=[pdf.EmbeddedFile("signatories.json", b"\xff\xfe{")])
    assert pdf.embedded_signatories(not_json) is None


def test_a_small_stream_that_would_unpack_into_gigabytes_is_not_unpacked(settings):
    data = pdf.html_to_pdf("<p>x</p>", files=[pdf.EmbeddedFile("signatories.json", b"{}")])
    with pikepdf.open(io.BytesIO(data)) as opened:
        stream = opened.attachments["signatories.json"].obj.EF.F
        bomb = zlib.compress(b'{"statement": "' + b" " * (pdf.MAX_EMBEDDED_BYTES + 10) + b'"}', 9)
        stream.write(bomb, filter=pikepdf.Name.FlateDecode)
        output = io.BytesIO()
        opened.save(output)
    assert len(bomb) < 100_000
    assert pdf.embedded_signatories(output.getvalue()) is None


def test_no_email_address_is_in_the_file():
    document = make_document(individuals=[pdf.Signatory("Олена Коваленко", "Truth Hounds")])
    assert "@" not in json.dumps(pdf.signatory_list(document))
    assert all(b"@" not in content for content in attachments(pdf.render_pdf(document)).values())


# Published issues ------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def published(media, coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish(statement, by=coordinator)
    return statement.publications.get(number=1)


@pytest.mark.django_db
def test_published_issue_carries_exactly_its_frozen_signatories(published, member_org, client):
    data = published.pdf.read()
    carried = pdf.embedded_signatories(data)
    assert carried["statement"] == published.statement.slug and carried["issue"] == 1
    assert carried["text_sha256"] == published.revision.sha256
    assert carried["organisations"] == published.signatories["organisations"]
    assert carried["individuals"] == published.signatories["individuals"]
    assert [o["name"] for o in carried["organisations"]] == [member_org.name]
    assert b"oleksandra@example.org" not in b"".join(attachments(data).values())
    page = client.get(published.statement.get_absolute_url()).content.decode()
    for name in [member_org.name, "Oleksandra Matviichuk"]:
        assert name in page
    assert embedded.matches_issue(carried, published)
    assert pdf.verify_pdf(data).authentic


@pytest.mark.django_db
def test_the_carried_list_is_read_once_per_file_and_then_cached(published):
    first = embedded.carried_signatories(published)
    published.pdf.delete(save=False)  # the file is gone: only the cache can answer now
    assert embedded.carried_signatories(published) == first
    assert first["individuals"] == [{"name": "Oleksandra Matviichuk", "affiliation": "Kyiv"}]


@pytest.mark.django_db
def test_a_list_that_differs_from_the_issue_does_not_match(published):
    carried = embedded.carried_signatories(published)
    assert embedded.matches_issue(carried, published)
    fewer = {**carried, "individuals": []}
    assert not embedded.matches_issue(fewer, published)
    assert not embedded.matches_issue({**carried, "issue": 2}, published)
    assert not embedded.matches_issue(None, published)



@pytest.mark.django_db
def test_verify_shows_the_signatories_an_authentic_file_lists_and_that_they_match(published, member_org, client):
    data = published.pdf.read()
    response = client.post("/verify/", {"file": SimpleUploadedFile("statement.pdf", data, "application/pdf")})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Signatories listed inside the file" in page
    assert "It is exactly the list published with this issue." in page
    assert "1 organisation, 1 individual" in page
    assert f"<li>{member_org.name}</li>" in page and "<li>Oleksandra Matviichuk, Kyiv</li>" in page
    assert "oleksandra@example.org" not in page

    client.cookies["django_language"] = "uk"
    page = client.get("/verify/", {"sha256": published.sha256}).content.decode()
    assert "Підписанти, яких перелічує сам файл" in page
    assert "Це точно той перелік, що опублікований із цим випуском." in page


@pytest.mark.django_db
def test_verify_lists_nothing_for_a_file_that_is_not_authentic(published, client):
    changed = bytearray(published.pdf.read())
    changed[len(changed) // 3] ^= 0x01
    page = client.post("/verify/", {"file": SimpleUploadedFile("x.pdf", bytes(changed), "application/pdf")})
    assert "Signatories listed inside the file" not in page.content.decode()


@pytest.mark.django_db
def test_api_gives_each_issue_the_signatories_its_file_carries(published, client):
    response = client.get(f"/api/statements/{published.statement.slug}/")
    [issue] = response.json()["publications"]
    assert issue["embedded_signatories"] == pdf.embedded_signatories(published.pdf.read())
    assert issue["embedded_signatories"]["organisations"] == published.signatories["organisations"]
    assert issue["embedded_signatories"]["individuals"] == [{"name": "Oleksandra Matviichuk", "affiliation": "Kyiv"}]


@pytest.mark.django_db
def test_demo_pdf_is_tagged_and_carries_exactly_the_signatories_its_page_lists(media, client, settings):
    from django.core.management import call_command
    from django.utils.html import escape

    from statements import demo, selectors
    from statements.models import Statement

    settings.DEBUG = True  # as in development: with DEBUG off seed_demo refuses
    call_command("seed_demo", stdout=io.StringIO())
    statement = Statement.objects.get(slug=demo.KAZAN_SLUG)
    publication = statement.publications.get(number=1)
    data = publication.pdf.read()

    assert "/H1" in structure(data) and "/LI" in structure(data)
    carried = json.loads(attachments(data)["signatories.json"])
    listed = selectors.signatories(statement)
    assert [o["name"] for o in carried["organisations"]] == [s.organisation.name for s in listed.organisations]
    assert [p["name"] for p in carried["individuals"]] == [s.name for s in listed.individuals]
    page = client.get(statement.get_absolute_url()).content.decode()
    names = [o["name"] for o in carried["organisations"]] + [p["name"] for p in carried["individuals"]]
    assert carried["organisations"] and all(escape(name) in page for name in names)
    assert pdf.verify_pdf(data).authentic
