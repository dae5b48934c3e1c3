"""The coalition's signing identity: `manage.py signing_identity`, and how the key is configured."""

import datetime
import stat
from io import StringIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.management import CommandError, call_command

from statements import pdf, pdf_signing

from .helpers import make_document


@pytest.fixture
def development_settings(settings, tmp_path):
    """Settings as a fresh development checkout has them: the identity lives in SIGNING_DEV_DIR."""
    folder = tmp_path / "signing"
    settings.DEBUG = True
    settings.SIGNING_DEV_DIR = folder
    settings.SIGNING_KEY_FILE = str(folder / pdf_signing.DEV_SIGNING_KEY)
    settings.SIGNING_CERT_FILE = str(folder / pdf_signing.DEV_SIGNING_CERT)
    settings.SIGNING_ROOT_CERT_FILE = str(folder / pdf_signing.DEV_ROOT_CERT)
    return folder


def run_command(*args) -> str:
    out = StringIO()
    call_command("signing_identity", *args, stdout=out)
    return out.getvalue()


def load(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_command_makes_a_root_ca_and_a_signing_certificate_issued_by_it(development_settings):
    output = run_command("--name", "Ukraine 5AM Coalition")

    root = load(development_settings / pdf_signing.DEV_ROOT_CERT)
    leaf = load(development_settings / pdf_signing.DEV_SIGNING_CERT)
    assert "Made development identity" in output
    assert leaf.issuer == root.subject != leaf.subject
    leaf.verify_directly_issued_by(root)
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment  # content_commitment is nonRepudiation
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert "Ukraine 5AM Coalition" in leaf.subject.rfc4514_string()
    for key in (pdf_signing.DEV_SIGNING_KEY, pdf_signing.DEV_ROOT_KEY):
        assert stat.S_IMODE((development_settings / key).stat().st_mode) == 0o600


@pytest.mark.slow
def test_command_keeps_an_existing_identity_unless_asked_to_replace_it(development_settings):
    run_command()
    first = (development_settings / pdf_signing.DEV_SIGNING_CERT).read_bytes()

    again = run_command()
    assert "Using existing development identity" in again
    assert (development_settings / pdf_signing.DEV_SIGNING_CERT).read_bytes() == first

    run_command("--replace")
    assert (development_settings / pdf_signing.DEV_SIGNING_CERT).read_bytes() != first


def test_command_reports_the_configured_identity_and_its_fingerprints(signing_identity):
    output = run_command()
    assert "Made development identity" not in output
    assert pdf_signing.fingerprint(pdf_signing.signing_certificate()) in output
    assert pdf_signing.fingerprint(pdf_signing.trust_root()) in output
    assert "Test Coalition root CA" in output
    assert "not after:" in output
    with pytest.raises(CommandError):
        run_command("--replace")


@pytest.mark.slow
def test_signing_in_development_makes_the_identity_on_first_use(development_settings):
    assert not development_settings.exists()
    signed = pdf.sign_pdf(pdf.render_pdf(make_document()))
    assert (development_settings / pdf_signing.DEV_SIGNING_KEY).exists()
    assert pdf.verify_pdf(signed).authentic


def test_signing_in_production_without_an_identity_is_a_clear_error(settings):
    settings.DEBUG = False
    settings.SIGNING_KEY_FILE = settings.SIGNING_CERT_FILE = settings.SIGNING_ROOT_CERT_FILE = ""
    with pytest.raises(pdf_signing.SigningIdentityMissing, match="SIGNING_PKCS12_FILE"):
        pdf.sign_pdf(b"%PDF-1.7")


def test_signing_with_a_missing_key_file_names_the_setting(settings, tmp_path):
    settings.SIGNING_KEY_FILE = str(tmp_path / "absent.pem")
    with pytest.raises(pdf_signing.SigningIdentityMissing, match="SIGNING_KEY_FILE"):
        pdf_signing.load_signer()


@pytest.fixture
def pkcs12_file(signing_identity, tmp_path):
    key = serialization.load_pem_private_key(signing_identity.signing_key.read_bytes(), None)
    bundle = pkcs12.serialize_key_and_certificates(
        b"coalition", key, load(signing_identity.signing_cert), [load(signing_identity.root_cert)],
        serialization.BestAvailableEncryption(b"correct horse"),
    )
    path = tmp_path / "coalition.p12"
    path.write_bytes(bundle)
    return path


def test_a_pkcs12_identity_signs_documents_that_verify(settings, pkcs12_file):
    settings.SIGNING_PKCS12_FILE, settings.SIGNING_PKCS12_PASSPHRASE = str(pkcs12_file), "correct horse"
    settings.SIGNING_KEY_FILE = settings.SIGNING_CERT_FILE = ""
    result = pdf.verify_pdf(pdf.sign_pdf(pdf.render_pdf(make_document())))
    assert result.authentic
    assert "Test Coalition" in result.signer_subject


def test_a_wrong_pkcs12_passphrase_is_a_clear_error(settings, pkcs12_file):
    settings.SIGNING_PKCS12_FILE, settings.SIGNING_PKCS12_PASSPHRASE = str(pkcs12_file), "wrong"
    with pytest.raises(pdf_signing.SigningIdentityMissing, match="could not be read"):
        pdf_signing.load_signer()


def test_trust_root_is_offered_as_the_configured_pem_certificate(signing_identity):
    downloaded = x509.load_pem_x509_certificate(pdf_signing.trust_root_pem())
    assert downloaded == load(signing_identity.root_cert)
    assert downloaded.not_valid_after_utc > datetime.datetime.now(datetime.UTC)
