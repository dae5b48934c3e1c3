"""Published PDFs: rendering, the coalition's signature, and verification (statements/pdf.py)."""

import datetime
import http.server
import shutil
import subprocess
import threading
from io import BytesIO

import pytest
from pypdf import PdfReader

from statements import pdf, pdf_signing

from .helpers import MEMBERS, make_document


@pytest.fixture(scope="module")
def document():
    return make_document()


@pytest.fixture
def signed(document):
    return pdf.sign_pdf(pdf.render_pdf(document), signer_name=document.coalition_name, language="uk")


def pdftotext(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def flat(value: str) -> str:
    return "".join(value.split())


def test_signed_statement_opens_with_its_title_text_hash_and_every_signatory(document, signed):
    reader = PdfReader(BytesIO(signed))
    assert 1 <= len(reader.pages) <= 3
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)  # A4
    words = pdftotext(signed)
    assert flat(document.title) in flat(words)
    assert "Ми закликаємо держави" in words
    for name in [*MEMBERS, "Олена Коваленко", "Andriy Melnyk"]:
        assert name in words
    assert document.text_sha256 in flat(words)
    assert document.short_url in flat(words)
    assert "Сторінка 1 з" in words  # the footer, in the document's language


def test_signature_is_intact_trusted_and_made_with_the_coalitions_certificate(signed, signing_identity):
    result = pdf.verify_pdf(signed)
    assert result.authentic
    assert result.readable and result.has_signature and result.intact and result.trusted
    assert "Test Coalition" in result.signer_subject
    assert result.certificate_sha256 == pdf_signing.fingerprint(pdf_signing.signing_certificate())
    assert result.sha256 == pdf.sha256(signed)
    assert abs(result.signed_at - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)
    assert not result.timestamped
    assert result.problem == ""


def test_visible_stamp_names_the_coalition_in_evenly_spaced_text(signed, document):
    lines = pdftotext(signed).splitlines()
    assert "Підписано електронним підписом" in lines
    assert document.coalition_name in lines  # letters neither run together nor spread apart


def _signature_contents_span(data: bytes) -> tuple[int, int]:
    start = data.rindex(b"/Contents <") + len(b"/Contents <")
    return start, data.index(b">", start)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["page content", "signature padding", "last byte"])
def test_a_byte_flipped_after_signing_is_detected(signed, where):
    if where == "page content":
        position = len(signed) // 4
    elif where == "signature padding":
        position = _signature_contents_span(signed)[1] - 10
    else:
        position = len(signed) - 1
    changed = bytearray(signed)
    changed[position] ^= 0x01
    result = pdf.verify_pdf(bytes(changed))
    assert not result.authentic
    assert not result.intact
    assert result.sha256 != pdf.sha256(signed)


def test_anything_appended_after_signing_breaks_intactness(signed):
    result = pdf.verify_pdf(signed + b"\n% a later addition\n")
    assert not result.intact


def test_pdf_signed_by_another_key_is_intact_but_not_trusted(settings, tmp_path, document):
    other = pdf_signing.create_development_identity(tmp_path, name="Someone Else")
    coalition_root = settings.SIGNING_ROOT_CERT_FILE
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = str(other.signing_key), str(other.signing_cert)
    settings.SIGNING_ROOT_CERT_FILE = str(other.root_cert)
    forged = pdf.sign_pdf(pdf.render_pdf(document))
    settings.SIGNING_ROOT_CERT_FILE = coalition_root

    result = pdf.verify_pdf(forged)
    assert result.has_signature and result.intact
    assert not result.trusted and not result.authentic
    assert "Someone Else" in result.signer_subject


def test_unsigned_files_and_junk_are_reported_without_raising(document):
    unsigned = pdf.verify_pdf(pdf.render_pdf(document))
    assert unsigned.readable and not unsigned.has_signature and unsigned.problem
    junk = pdf.verify_pdf(b"not a pdf at all")
    assert not junk.readable and not junk.has_signature and junk.problem


def test_pdfsig_reports_a_valid_trusted_signature_over_the_whole_document(signed, signing_identity, tmp_path):
    if not shutil.which("pdfsig") or not shutil.which("certutil"):
        pytest.fail("pdfsig (poppler-utils) and certutil (libnss3-tools) are needed: run scripts/bootstrap")
    nss = f"sql:{tmp_path}"
    subprocess.run(["certutil", "-N", "--empty-password", "-d", nss], check=True, capture_output=True)
    subprocess.run(
        ["certutil", "-A", "-n", "coalition root", "-t", "CT,C,C", "-i", str(signing_identity.root_cert), "-d", nss],
        check=True, capture_output=True,
    )
    path = tmp_path / "statement.pdf"
    path.write_bytes(signed)
    report = subprocess.run(["pdfsig", "-nssdir", nss, str(path)], capture_output=True, text=True).stdout
    assert "Signature is Valid." in report
    assert "Total document signed" in report  # nothing added or changed after signing
    assert "Certificate is Trusted." in report
    assert "Test Coalition" in report


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (the http.server name)
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_server():
    RecordingHandler.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_renderer_fetches_nothing_from_the_network_and_embeds_no_local_file(loopback_server):
    base = f"http://127.0.0.1:{loopback_server.server_address[1]}"
    html = f"""<!DOCTYPE html><html><head>
      <link rel="stylesheet" href="{base}/linked.css">
      <link rel="attachment" href="file:///etc/passwd" title="passwd">
      <style>@import url("{base}/imported.css"); body {{ background: url("{base}/background.png"); }}
        @font-face {{ font-family: Remote; src: url("{base}/font.ttf"); }}</style>
      </head><body><p>Statement</p><img src="{base}/image.png">
      <img src="file:///etc/hostname"><a rel="attachment" href="file:///etc/passwd">passwd</a></body></html>"""
    output = pdf.html_to_pdf(html)

    assert RecordingHandler.requests == []
    reader = PdfReader(BytesIO(output))
    assert reader.attachments == {}
    assert b"/EmbeddedFile" not in output and b"/Filespec" not in output
    passwd = open("/etc/passwd", "rb").read()
    first_line = passwd.splitlines()[0]
    assert first_line not in output and b"root:x:0:0" not in output
    assert first_line.decode() not in pdftotext(output)
    assert "Statement" in pdftotext(output)


def test_bundled_assets_are_served_and_nothing_else():
    fetcher = pdf.AssetFetcher()
    stylesheet = fetcher.fetch(pdf.ASSET_BASE + "pdf/statement.css")
    assert b"@font-face" in stylesheet.read()
    for url in [pdf.ASSET_BASE + "../../etc/passwd", "file:///etc/passwd", "data:text/plain,hello",
                pdf.ASSET_BASE + "pdf/../../coalition/settings.py", "http://127.0.0.1:1/"]:
        with pytest.raises(pdf.AssetRefused):
            fetcher.fetch(url)


def test_coalition_name_and_title_cannot_break_out_of_the_page_header():
    hostile = 'Coalition "A" }; @page { @top-left { content: "owned" } } \\'
    output = pdf.render_pdf(make_document(coalition_name=hostile, title=hostile))
    words = pdftotext(output)
    assert "owned\n" not in words.replace(hostile, "")
    assert PdfReader(BytesIO(output)).pages


def test_statement_in_english_with_correction_note_and_translation():
    document = make_document(
        language="en", issue=2, correction_note="A signatory's name was misspelt.",
        translations=[pdf.Translation("uk", "Переклад заяви", "<p>Текст перекладу.</p>")],
    )
    words = pdftotext(pdf.render_pdf(document))
    assert "Corrected issue 2." in words
    assert "A signatory's name was misspelt." in words or "A signatory’s name was misspelt." in words
    assert "Переклад заяви" in words and "Текст перекладу." in words
    assert "Page 1 of" in words


@pytest.mark.slow
def test_statement_with_1000_signatory_organisations_renders_and_signs():
    names = [f"{MEMBERS[i % len(MEMBERS)]} №{i}" for i in range(1000)]
    signed = pdf.sign_pdf(pdf.render_pdf(make_document(organisations=names)))
    assert 6 <= len(PdfReader(BytesIO(signed)).pages) <= 20
    words = pdftotext(signed)
    assert all(name in words for name in (names[0], names[499], names[999]))
    assert pdf.verify_pdf(signed).authentic


@pytest.fixture
def timestamp_server(signing_identity):
    """A timestamp authority on loopback (pyHanko's test TSA), certified by the test root."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import tsp
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    root = x509.load_pem_x509_certificate(signing_identity.root_cert.read_bytes())
    root_key = serialization.load_pem_private_key((signing_identity.folder / pdf_signing.DEV_ROOT_KEY).read_bytes(), None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # the test TSA signs with RSA only
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]))
        .issuer_name(root.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    der = serialization.Encoding.DER
    tsa = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(certificate.public_bytes(der)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        ),
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = tsa.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_signature_carries_a_trusted_timestamp_when_a_timestamp_server_is_configured(
    settings, timestamp_server, document
):
    settings.SIGNING_TIMESTAMP_URL = timestamp_server
    result = pdf.verify_pdf(pdf.sign_pdf(pdf.render_pdf(document)))
    assert result.authentic
    assert result.timestamped
    assert abs(result.signed_at - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)


def test_signed_pdf_keeps_its_pdfa_3a_marks_and_embeds_every_font(signed):
    # No PDF/A validator (veraPDF) is at hand: these are the requirements a signature could break.
    reader = PdfReader(BytesIO(signed))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="A"' in xmp
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert "/NeedAppearances" not in root["/AcroForm"]
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            assert annotation["/F"] & 4  # printed
            if annotation["/Subtype"] == "/Widget":
                assert "/N" in annotation["/AP"]
    fonts = subprocess.run(["pdffonts", "-"], input=signed, capture_output=True, check=True).stdout.decode()
    rows = fonts.splitlines()[2:]
    assert rows and all(row.split()[-5] == "yes" for row in rows)  # the "emb" column


def test_a_pdf_made_elsewhere_is_signed_with_its_stamp_on_the_last_page():
    other = pdf.html_to_pdf("<p>One</p><p style='break-before: page'>Two</p>")
    signed = pdf.sign_pdf(other, signer_name="Test Coalition", language="en")
    assert pdf.verify_pdf(signed).authentic
    last_page = subprocess.run(["pdftotext", "-f", "2", "-l", "2", "-", "-"], input=signed, capture_output=True).stdout
    assert "Digitally signed by" in last_page.decode()


def test_signing_and_verifying_work_inside_a_running_event_loop(document):
    import asyncio

    async def inside_a_loop():
        return pdf.verify_pdf(pdf.sign_pdf(pdf.render_pdf(document)))

    results = []  # in a thread of its own, since this one may already run a loop (browser tests)
    thread = threading.Thread(target=lambda: results.append(asyncio.run(inside_a_loop())))
    thread.start()
    thread.join()
    assert results and results[0].authentic
