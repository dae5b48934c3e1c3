"""Signing with a key that cannot be copied: a PKCS#11 token (SoftHSM2 here), configured by
SIGNING_PKCS11_* (statements/pdf_signing.py). The token holds the test run's development key, as a
non-extractable object, and its certificate."""

import asyncio
import dataclasses
import multiprocessing
import os
import re
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pkcs11
import pytest
from asn1crypto import pem
from django.core.management import call_command
from django.urls import reverse
from pkcs11 import Attribute, ObjectClass
from pkcs11.util.x509 import decode_x509_certificate
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.validation import ades

from statements import pdf, pdf_signing
from statements.models import Publication

from .conftest import need_service
from .helpers import make_document
from .helpers import closed_statement, lta_spec, publish, signature_of

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN, KEY, PIN, SO_PIN = "coalition-test", "coalition-signing", "4711-0815", "12345678"

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def softhsm_token(signing_files, tmp_path_factory):
    """A SoftHSM2 token of this test run, in a folder of its own, holding the development signing
    key (imported, so not extractable) and its certificate. Returns the PIN file."""
    need_service("SoftHSM2 (Debian package softhsm2)",
                 bool(shutil.which("softhsm2-util")) and Path(SOFTHSM_MODULE).is_file())
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    config = folder / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    # The module reads its configuration when it is first initialised, in this process or in
    # softhsm2-util; nothing else in the test run loads it.
    previous_config = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(config)

    def util(*args):
        subprocess.run(["softhsm2-util", *args], check=True, capture_output=True, env=os.environ)

    util("--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN)
    util("--import", str(signing_files.signing_key), "--token", TOKEN, "--label", KEY, "--id", "01", "--pin", PIN)
    certificate = decode_x509_certificate(pem.unarmor(signing_files.signing_cert.read_bytes())[2])
    with pkcs11.lib(SOFTHSM_MODULE).get_token(token_label=TOKEN).open(rw=True, user_pin=PIN) as session:
        session.create_object({**certificate, Attribute.TOKEN: True, Attribute.LABEL: KEY, Attribute.ID: b"\x01"})
    pin_file = folder / "pin"
    pin_file.write_text(PIN + "\n")
    pin_file.chmod(0o600)
    yield pin_file
    pdf_signing._close_token_sessions()
    if previous_config is None:
        del os.environ["SOFTHSM2_CONF"]
    else:
        os.environ["SOFTHSM2_CONF"] = previous_config


def sign_on_the_token(settings, pin_file: Path):
    """Settings that sign on the token: no key file anywhere; the certificate comes from the token
    and the trust root stays the development root."""
    settings.SIGNING_PKCS11_MODULE = SOFTHSM_MODULE
    settings.SIGNING_PKCS11_TOKEN_LABEL = TOKEN
    settings.SIGNING_PKCS11_KEY_LABEL = KEY
    settings.SIGNING_PKCS11_CERT_LABEL = ""
    settings.SIGNING_PKCS11_PIN = ""
    settings.SIGNING_PKCS11_PIN_FILE = str(pin_file)
    settings.SIGNING_KEY_FILE = settings.SIGNING_CERT_FILE = ""
    return settings


@pytest.fixture
def on_token(settings, softhsm_token):
    return sign_on_the_token(settings, softhsm_token)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def pdfsig(data: bytes, root_cert: Path, folder: Path) -> str:
    nss = f"sql:{folder}"
    subprocess.run(["certutil", "-N", "--empty-password", "-d", nss], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-n", "coalition root", "-t", "CT,C,C", "-i", str(root_cert), "-d", nss],
                   check=True, capture_output=True)
    (folder / "statement.pdf").write_bytes(data)
    return subprocess.run(["pdfsig", "-nssdir", nss, str(folder / "statement.pdf")],
                          capture_output=True, text=True).stdout


def what_verification_says(data: bytes) -> dict:
    """All that verify_pdf reports, except what differs between any two files (hash, times)."""
    varying = ("sha256", "signed_at", "document_timestamp_at")
    return {k: v for k, v in dataclasses.asdict(pdf.verify_pdf(data)).items() if k not in varying}


def test_the_key_on_the_token_cannot_be_read_out(on_token):
    session = pdf_signing.load_signer().pkcs11_session
    key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=KEY)
    assert key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE]


def test_a_pdf_signed_on_the_token_validates_exactly_like_one_signed_with_the_key_file(
        settings, softhsm_token, signing_identity, tmp_path):
    unsigned = pdf.render_pdf(make_document())
    with_file = pdf.sign_pdf(unsigned, signer_name="Test Coalition")
    file_fingerprint = pdf_signing.fingerprint(pdf_signing.signing_certificate())

    sign_on_the_token(settings, softhsm_token)
    with_token = pdf.sign_pdf(unsigned, signer_name="Test Coalition")

    assert with_token != with_file
    assert pdf.verify_pdf(with_token).authentic
    assert what_verification_says(with_token) == what_verification_says(with_file)
    assert pdf.verify_pdf(with_token).certificate_sha256 == file_fingerprint
    assert pdf_signing.fingerprint(pdf_signing.signing_certificate()) == file_fingerprint
    report = pdfsig(with_token, signing_identity.root_cert, tmp_path)
    assert "Signature is Valid." in report
    assert "Total document signed" in report
    assert "Certificate is Trusted." in report


@pytest.mark.slow
def test_with_a_timestamp_server_a_token_signature_is_b_lta_and_validates_like_the_file_key_one(
        settings, softhsm_token, timestamp_authority):
    unsigned = pdf.render_pdf(make_document())
    with_file = pdf.sign_pdf(unsigned)
    sign_on_the_token(settings, softhsm_token)
    with_token = pdf.sign_pdf(unsigned)

    verification = pdf.verify_pdf(with_token)
    assert verification.authentic and verification.timestamped and verification.ltv
    assert verification.document_timestamp_at is not None
    assert what_verification_says(with_token) == what_verification_says(with_file)
    result = asyncio.run(ades.ades_lta_validation(signature_of(with_token), lta_spec(timestamp_authority)))
    assert result.ades_subindic == AdESPassed.OK, result.failure_msg


def test_publishing_with_the_token_makes_a_ready_issue_signed_by_the_same_certificate(
        on_token, coalition, coordinator, signer, member_org, signing_identity, django_capture_on_commit_callbacks):
    statement = closed_statement(coalition, coordinator, signer, member_org)
    publication = publish(statement, coordinator, django_capture_on_commit_callbacks)

    assert publication.state == Publication.State.READY and publication.failure == ""
    data = publication.pdf.read()
    verification = pdf.verify_pdf(data)
    assert verification.authentic
    assert publication.certificate_sha256 == verification.certificate_sha256 == pdf_signing.fingerprint(
        pdf_signing._read_certificates(str(signing_identity.signing_cert))[0])


def test_a_wrong_pin_fails_the_publication_with_a_readable_reason_and_a_retry_with_the_right_one_succeeds(
        on_token, coalition, coordinator, signer, member_org, client, django_capture_on_commit_callbacks):
    on_token.SIGNING_PKCS11_PIN_FILE = ""
    on_token.SIGNING_PKCS11_PIN = "0000"
    statement = closed_statement(coalition, coordinator, signer, member_org)
    publication = publish(statement, coordinator, django_capture_on_commit_callbacks)

    assert publication.state == Publication.State.FAILED and not publication.pdf
    assert f"The PKCS#11 token '{TOKEN}' refused the PIN" in publication.failure
    client.force_login(coordinator)
    page = client.get(statement.get_absolute_url()).content.decode()
    assert "refused the PIN" in page and "Try again" in page
    with pytest.raises(pdf_signing.SigningIdentityMissing, match="not offered again, lest the token lock it"):
        pdf_signing.signing_certificate()

    on_token.SIGNING_PKCS11_PIN = PIN
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("publication_retry", args=[statement.slug, 1]))
    assert response.status_code == 302
    publication.refresh_from_db()
    assert publication.state == Publication.State.READY and pdf.verify_pdf(publication.pdf.read()).authentic


def test_a_key_label_the_token_does_not_hold_fails_the_publication_and_leaves_the_token_usable(
        on_token, coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks):
    on_token.SIGNING_PKCS11_KEY_LABEL = "no-such-key"
    on_token.SIGNING_PKCS11_CERT_LABEL = KEY
    statement = closed_statement(coalition, coordinator, signer, member_org)
    publication = publish(statement, coordinator, django_capture_on_commit_callbacks)

    assert publication.state == Publication.State.FAILED
    assert "Could not find private key with label 'no-such-key'" in publication.failure
    assert "SIGNING_PKCS11_KEY_LABEL" in publication.failure

    on_token.SIGNING_PKCS11_KEY_LABEL = KEY
    assert pdf.verify_pdf(pdf.sign_pdf(pdf.render_pdf(make_document()))).authentic


@pytest.mark.parametrize("setting, value, message", [
    ("SIGNING_PKCS11_MODULE", "/nonexistent/libpkcs11.so", "SIGNING_PKCS11_MODULE points to /nonexistent/libpkcs11.so"),
    ("SIGNING_PKCS11_MODULE", "/etc/hostname", "The PKCS#11 module /etc/hostname could not be loaded"),
    ("SIGNING_PKCS11_TOKEN_LABEL", "elsewhere", f"no token labelled 'elsewhere' (SIGNING_PKCS11_TOKEN_LABEL); "
                                                f"tokens present: '{TOKEN}'."),
    ("SIGNING_PKCS11_KEY_LABEL", "", "set SIGNING_PKCS11_KEY_LABEL too"),
    ("SIGNING_PKCS11_PIN_FILE", "/nonexistent/pin", "SIGNING_PKCS11_PIN_FILE (/nonexistent/pin) could not be read"),
    ("SIGNING_PKCS11_PIN_FILE", "", "set SIGNING_PKCS11_PIN or SIGNING_PKCS11_PIN_FILE too"),
    ("SIGNING_PKCS11_CERT_LABEL", "no-such-certificate", "Could not find certificate with label 'no-such-certificate'"),
])
def test_a_configuration_the_token_cannot_serve_is_reported_in_words(on_token, setting, value, message):
    setattr(on_token, setting, value)
    with pytest.raises(pdf_signing.SigningIdentityMissing, match=re.escape(message)):
        pdf.sign_pdf(pdf.render_pdf(make_document()))
    with pytest.raises(pdf_signing.SigningIdentityMissing):
        pdf_signing.signing_certificate()


def test_the_certificate_can_come_from_a_file_while_the_key_stays_on_the_token(on_token, signing_identity):
    on_token.SIGNING_PKCS11_CERT_LABEL = "not-on-the-token"  # not used when SIGNING_CERT_FILE is set
    on_token.SIGNING_CERT_FILE = str(signing_identity.signing_cert)
    verification = pdf.verify_pdf(pdf.sign_pdf(pdf.render_pdf(make_document())))
    assert verification.authentic
    assert verification.certificate_sha256 == pdf_signing.fingerprint(pdf_signing.signing_certificate())


def test_a_certificate_that_is_not_the_keys_fails_the_publication_instead_of_making_a_pdf_that_never_validates(
        on_token, tmp_path, coalition, coordinator, signer, member_org, django_capture_on_commit_callbacks):
    someone_else = pdf_signing.create_development_identity(tmp_path, name="Someone Else")
    on_token.SIGNING_CERT_FILE = str(someone_else.signing_cert)
    statement = closed_statement(coalition, coordinator, signer, member_org)
    publication = publish(statement, coordinator, django_capture_on_commit_callbacks)

    assert publication.state == Publication.State.FAILED and not publication.pdf
    assert (f"The key '{KEY}' on the PKCS#11 token '{TOKEN}' does not belong to the signing certificate "
            "(Common Name: Someone Else") in publication.failure
    assert "check SIGNING_CERT_FILE" in publication.failure


def test_a_session_lost_under_the_signer_fails_one_attempt_and_the_next_logs_in_afresh(on_token):
    unsigned = pdf.render_pdf(make_document())
    pdf_signing.load_signer().pkcs11_session.close()  # as when the HSM restarts
    with pytest.raises(pdf_signing.SigningIdentityMissing, match=f"token '{TOKEN}' could not sign"):
        pdf.sign_pdf(unsigned)
    assert pdf.verify_pdf(pdf.sign_pdf(unsigned)).authentic


def _sign_in_child(unsigned: bytes, results) -> None:
    results.put(pdf.sign_pdf(unsigned))


def test_a_forked_worker_signs_with_a_session_of_its_own(on_token):
    """Celery's prefork workers: a session the parent opened is no use in the child."""
    unsigned = pdf.render_pdf(make_document())
    parent_signer = pdf_signing.load_signer()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_sign_in_child, args=(unsigned, results))
    child.start()
    signed_in_child = results.get(timeout=60)
    child.join(timeout=30)
    assert child.exitcode == 0
    assert pdf.verify_pdf(signed_in_child).authentic
    assert pdf_signing.load_signer() is parent_signer  # and the parent's session is still its own
    assert pdf.verify_pdf(pdf.sign_pdf(unsigned)).authentic


def test_signing_identity_command_says_where_the_key_is_and_reports_the_tokens_certificate(on_token):
    out = StringIO()
    call_command("signing_identity", stdout=out)
    output = out.getvalue()
    assert f"PKCS#11 token '{TOKEN}', key '{KEY}' (module {SOFTHSM_MODULE})" in output
    assert pdf_signing.fingerprint(pdf_signing.signing_certificate()) in output
    assert "Test Coalition" in output
