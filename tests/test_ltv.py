"""Long-term validation: with a timestamp server configured, a publication is PAdES B-LTA (the
signature's timestamp, the certificates and revocation lists that prove it valid in a DSS, and a
document timestamp over them), checked against a local RFC 3161 server (tests/tsa.py)."""

import asyncio
import datetime
import subprocess
from io import BytesIO

import pytest
from django.urls import reverse
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import timestamps
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.validation import ades
from pyhanko_certvalidator import ValidationContext

from statements import pdf, pdf_signing
from statements.services import publishing
from statements.models import Publication

from .helpers import closed_statement, lta_spec, make_document, publish, signature_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def pdfsig(data: bytes, tmp_path) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout


@pytest.fixture
def lta_publication(coalition, coordinator, signer, member_org, timestamp_authority,
                    django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    return publish(statement, coordinator, django_capture_on_commit_callbacks)


@pytest.mark.slow
def test_a_publication_made_with_a_timestamp_server_validates_as_pades_b_lta(lta_publication, timestamp_authority):
    assert lta_publication.state == Publication.State.READY, lta_publication.failure
    data = lta_publication.pdf.read()
    result = asyncio.run(ades.ades_lta_validation(signature_of(data), lta_spec(timestamp_authority)))
    assert result.ades_subindic == AdESPassed.OK, result.failure_msg
    assert result.oldest_evidence_record_timestamp is not None  # the document timestamp
    assert result.signature_timestamp_status.ades_subindic == AdESPassed.OK
    now = datetime.datetime.now(datetime.UTC)
    assert abs(result.best_signature_time - now) < datetime.timedelta(minutes=5)

    dss = PdfFileReader(BytesIO(data)).root["/DSS"]
    assert len(dss["/CRLs"]) == 2 and len(dss["/Certs"]) >= 2  # the coalition's root CA's and the TSA root's


@pytest.mark.slow
def test_b_lta_still_proves_the_signature_after_every_certificate_has_expired(
        lta_publication, timestamp_authority, settings):
    # Ten years on, the signing certificate (3 years) and the TSA's (1 year) have long expired;
    # what the file carries, with its timestamps kept up, still proves it.
    ten_years_on = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3650)
    result = asyncio.run(ades.simulate_future_ades_lta_validation(
        signature_of(lta_publication.pdf.read()), lta_spec(timestamp_authority), future_validation_time=ten_years_on,
    ))
    assert result.ades_subindic == AdESPassed.OK, result.failure_msg

    # A B-T file (no validation data embedded) cannot be proved then.
    settings.SIGNING_TIMESTAMP_URL = ""
    b_b = pdf.sign_pdf(pdf.render_pdf(make_document()))
    result = asyncio.run(ades.simulate_future_ades_lta_validation(
        signature_of(b_b), lta_spec(timestamp_authority), future_validation_time=ten_years_on,
    ))
    assert result.ades_subindic != AdESPassed.OK


def test_verify_pdf_reports_the_file_authentic_with_ltv_data_and_a_document_timestamp(lta_publication):
    verification = pdf.verify_pdf(lta_publication.pdf.read())
    assert verification.authentic, verification.problem
    assert verification.timestamped and verification.ltv
    now = datetime.datetime.now(datetime.UTC)
    assert abs(verification.document_timestamp_at - now) < datetime.timedelta(minutes=5)
    assert verification.document_timestamp_at >= verification.signed_at
    assert verification.certificate_sha256 == lta_publication.certificate_sha256


def test_a_file_signed_without_a_timestamp_server_has_no_ltv_data():
    verification = pdf.verify_pdf(pdf.sign_pdf(pdf.render_pdf(make_document())))
    assert verification.authentic
    assert not verification.timestamped and not verification.ltv and verification.document_timestamp_at is None


def test_pdfsig_lists_the_valid_signature_and_the_document_timestamp(lta_publication, tmp_path):
    report = pdfsig(lta_publication.pdf.read(), tmp_path)
    first, second = report.split("Signature #2:")
    assert "Signature Field Name: CoalitionSignature" in first and "Signature is Valid" in first
    assert f"Signature Field Name: {pdf.TIMESTAMP_FIELD}" in second and "Signer Certificate Common Name: Test TSA" in second


def test_verify_page_answers_authentic_for_the_b_lta_file(lta_publication, client):
    response = client.post(reverse("verify"), {"file": BytesIO(lta_publication.pdf.read())})
    assert response.status_code == 200
    assert "signature is intact" in response.content.decode()


@pytest.mark.slow
def test_any_change_after_the_document_timestamp_is_still_flagged(lta_publication):
    data = lta_publication.pdf.read()
    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page_ref.get_object()["/Rotate"] = generic.NumberObject(90)  # the first page turned on its side
    writer.mark_update(page_ref)
    output = BytesIO()
    writer.write(output)
    verification = pdf.verify_pdf(output.getvalue())
    assert not verification.intact and not verification.authentic
    assert verification.problem == "The file was changed after it was signed."
    assert not verification.ltv and verification.document_timestamp_at is None


@pytest.mark.slow
@pytest.mark.parametrize("appended", [b"\n% a later addition\n", b"\n"])
def test_bytes_appended_after_the_last_revision_are_flagged(lta_publication, appended):
    data = lta_publication.pdf.read()
    verification = pdf.verify_pdf(data + appended * 3)
    assert not verification.authentic
    assert verification.problem == "The file was changed after it was signed."


def test_damage_to_the_timestamped_validation_data_is_flagged(lta_publication):
    data = bytearray(lta_publication.pdf.read())
    # Damage a byte the document timestamp covers but the signature does not (the DSS revision).
    dss_at = bytes(data).rindex(b"/CRLs")
    data[dss_at + 1 : dss_at + 5] = b"CRLx"
    verification = pdf.verify_pdf(bytes(data))
    assert not verification.authentic


@pytest.mark.slow
def test_renewing_the_archive_timestamp_keeps_the_file_authentic(lta_publication, timestamp_authority):
    # Before the TSA's certificate expires an archivist adds a newer document timestamp (B-LTA
    # renewal); the coalition's signature stays authentic and the newer timestamp is reported.
    data = lta_publication.pdf.read()
    before = pdf.verify_pdf(data).document_timestamp_at
    context = ValidationContext(trust_roots=pdf_signing.timestamp_roots(), crls=pdf_signing.revocation_lists(),
                                allow_fetching=False)
    output = PdfTimeStamper(timestamps.HTTPTimeStamper(timestamp_authority.url)).update_archival_timestamp_chain(
        PdfFileReader(BytesIO(data)), context)
    verification = pdf.verify_pdf(output.getvalue())
    assert verification.authentic and verification.ltv, verification.problem
    assert verification.document_timestamp_at > before


@pytest.mark.slow
def test_when_the_timestamp_server_is_down_publishing_fails_and_a_retry_works_once_it_is_up(
        coalition, coordinator, signer, member_org, timestamp_authority, django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    timestamp_authority.stop()
    publication = publish(statement, coordinator, django_capture_on_commit_callbacks)
    assert publication.state == Publication.State.FAILED
    assert "timestamp server did not answer" in publication.failure

    timestamp_authority.start()
    with django_capture_on_commit_callbacks(execute=True):
        publishing.retry(publication, by=coordinator)
    publication.refresh_from_db()
    assert publication.state == Publication.State.READY, publication.failure
    verification = pdf.verify_pdf(publication.pdf.read())
    assert verification.authentic and verification.ltv and verification.document_timestamp_at


def test_a_revoked_signing_certificate_cannot_publish(
        coalition, coordinator, signer, member_org, timestamp_authority, signing_files, tmp_path, settings,
        django_capture_on_commit_callbacks):
    # A copy of the identity, so that the CRL revoking its certificate is this test's alone.
    identity = pdf_signing.create_development_identity(tmp_path / "revoked", name="Test Coalition")
    settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE = str(identity.signing_key), str(identity.signing_cert)
    settings.SIGNING_ROOT_CERT_FILE = str(identity.root_cert)
    serial = pdf_signing.signing_certificate().serial_number
    settings.SIGNING_CRL_FILES = [str(pdf_signing.write_development_crl(identity.folder, revoked=(serial,))),
                                  str(timestamp_authority.crl_file)]
    statement = closed_statement(coalition, coordinator, signer, member_org)
    publication = publish(statement, coordinator, django_capture_on_commit_callbacks)
    assert publication.state == Publication.State.FAILED
    assert "revoked" in publication.failure


def test_without_revocation_information_for_the_signing_certificate_publishing_fails_and_says_why(
        coalition, coordinator, signer, member_org, timestamp_authority, settings,
        django_capture_on_commit_callbacks):
    settings.SIGNING_CRL_FILES = [str(timestamp_authority.crl_file)]  # none for the coalition's certificate
    statement = closed_statement(coalition, coordinator, signer, member_org)
    publication = publish(statement, coordinator, django_capture_on_commit_callbacks)
    assert publication.state == Publication.State.FAILED
    assert "The signing certificate could not be validated" in publication.failure
    assert "revocation" in publication.failure.lower()


def test_signing_identity_shows_the_timestamp_root_and_the_revocation_lists_to_keep_current(timestamp_authority):
    from io import StringIO

    from django.core.management import call_command

    output = StringIO()
    call_command("signing_identity", stdout=output)
    text = output.getvalue()
    assert f"Timestamp server: {timestamp_authority.url} (PAdES B-LTA)" in text
    assert "Timestamp authority root" in text and "Common Name: Test TSA root" in text
    assert text.count("Revocation list") == 2
    assert "Common Name: Test Coalition root CA" in text and "next update: " in text and "EXPIRED" not in text
    assert "Fetching revocation information (SIGNING_REVOCATION_FETCH): off" in text


def test_an_expired_revocation_list_fails_publishing_and_signing_identity_says_so(
        coalition, coordinator, signer, member_org, timestamp_authority, signing_identity, settings, tmp_path,
        django_capture_on_commit_callbacks):
    from io import StringIO

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from django.core.management import call_command

    root = x509.load_pem_x509_certificate(signing_identity.root_cert.read_bytes())
    root_key = serialization.load_pem_private_key((signing_identity.folder / pdf_signing.DEV_ROOT_KEY).read_bytes(), None)
    last_week = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=7)
    expired = (x509.CertificateRevocationListBuilder().issuer_name(root.subject)
               .last_update(last_week).next_update(last_week + datetime.timedelta(days=1))
               .sign(root_key, hashes.SHA256()))
    (tmp_path / "expired.crl").write_bytes(expired.public_bytes(serialization.Encoding.DER))
    settings.SIGNING_CRL_FILES = [str(tmp_path / "expired.crl"), str(timestamp_authority.crl_file)]

    output = StringIO()
    call_command("signing_identity", stdout=output)
    assert "(EXPIRED: replace it)" in output.getvalue()
    statement = closed_statement(coalition, coordinator, signer, member_org)
    publication = publish(statement, coordinator, django_capture_on_commit_callbacks)
    assert publication.state == Publication.State.FAILED
    assert "The signing certificate could not be validated" in publication.failure


def test_the_indexed_reader_reads_every_object_as_pyhankos_reader_does(lta_publication):
    data = lta_publication.pdf.read()
    plain, indexed = PdfFileReader(BytesIO(data), strict=False), pdf._IndexedReader(BytesIO(data), strict=False)
    dictionaries = 0
    for idnum in range(1, int(plain.trailer["/Size"])):
        expected = plain.get_object(generic.Reference(idnum, 0, plain))
        assert indexed.get_object(generic.Reference(idnum, 0, indexed)) == expected, idnum
        dictionaries += isinstance(expected, generic.DictionaryObject)
    assert dictionaries > 50
    assert indexed.__dict__.get("_object_stream_index")  # the file has object streams: the index was used


@pytest.mark.slow
def test_a_b_lta_statement_with_1000_signatories_verifies_in_seconds(timestamp_authority):
    import time

    names = [f"Organisation №{i}" for i in range(1000)]
    signed = pdf.sign_pdf(pdf.render_pdf(make_document(organisations=names)))
    started = time.perf_counter()
    verification = pdf.verify_pdf(signed)
    assert verification.authentic and verification.ltv and verification.document_timestamp_at
    assert time.perf_counter() - started < 20  # pyHanko's own reader took over a minute here


def test_an_unreadable_timestamp_root_file_leaves_verification_working(lta_publication, settings, tmp_path):
    settings.SIGNING_TIMESTAMP_ROOT_CERT_FILE = str(tmp_path / "missing.pem")
    verification = pdf.verify_pdf(lta_publication.pdf.read())
    assert verification.authentic  # the coalition's signature does not depend on it
    assert verification.document_timestamp_at is None and not verification.ltv  # the TSA is no longer trusted
