"""The coalition's signing identity: the key and certificate that sign published PDFs, and the
root certificate that verification trusts (and that `/verify/` offers for download).

Settings (see coalition/settings.py):

- ``SIGNING_PKCS12_FILE`` + ``SIGNING_PKCS12_PASSPHRASE``, or
- ``SIGNING_KEY_FILE`` + ``SIGNING_CERT_FILE`` (PEM), with ``SIGNING_KEY_PASSPHRASE`` if the key
  is encrypted;
- ``SIGNING_ROOT_CERT_FILE``: the trust root. Without it, the signing certificate itself is the
  trust root (a self-signed production certificate).

In development (DEBUG on, nothing configured) the files live in ``SIGNING_DEV_DIR`` and are made
on first use, or by ``manage.py signing_identity``: a development root CA and a signing
certificate issued by it.
"""

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.sign import signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko_certvalidator.registry import SimpleCertificateStore

DEV_ROOT_CERT = "root-cert.pem"
DEV_ROOT_KEY = "root-key.pem"
DEV_SIGNING_CERT = "signing-cert.pem"
DEV_SIGNING_KEY = "signing-key.pem"
DEV_NAME = "Coalition Statements (development)"


class SigningIdentityMissing(ImproperlyConfigured):
    """No usable signing key and certificate are configured."""


class CoalitionSigner(signers.SimpleSigner):
    """pyHanko's signer, keeping the private key it was made with instead of reading it again for
    every raw signature (pyHanko makes two per PDF), since OpenSSL checks an RSA key each time it
    is read: 130 ms a time for a 3072-bit key."""

    _private_key = None

    @classmethod
    def from_keys(cls, key, certificate: x509.Certificate, chain: list[x509.Certificate]) -> "CoalitionSigner":
        """A signer from `cryptography` objects: the private key, its certificate, and the
        certificates that lead to the root (embedded in each signature)."""
        der = serialization.Encoding.DER
        as_asn1 = [asn1_x509.Certificate.load(c.public_bytes(der)) for c in [certificate, *chain]]
        signer = cls(
            signing_cert=as_asn1[0],
            signing_key=asn1_keys.PrivateKeyInfo.load(
                key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            ),
            cert_registry=SimpleCertificateStore.from_certs(as_asn1),
        )
        signer._private_key = key
        return signer

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        try:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        except ValueError:
            mechanism = None
        if mechanism not in ("rsassa_pkcs1v15", "ecdsa"):
            return super().sign_raw(data, digest_algorithm)
        if self._private_key is None:
            self._private_key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "ecdsa":
            return self._private_key.sign(data, ec.ECDSA(hash_algorithm))
        return self._private_key.sign(data, padding.PKCS1v15(), hash_algorithm)


@dataclass(frozen=True)
class DevelopmentIdentity:
    """Where `create_development_identity` put its files."""

    folder: Path
    root_cert: Path
    signing_key: Path
    signing_cert: Path
    created: bool


def fingerprint(certificate: asn1_x509.Certificate) -> str:
    """The SHA-256 fingerprint of a certificate (of its DER encoding), as lowercase hex."""
    return hashlib.sha256(certificate.dump()).hexdigest()


def describe(certificate: asn1_x509.Certificate) -> dict[str, str]:
    """What a person needs to recognise a certificate: subject, issuer, validity, fingerprint."""
    validity = certificate["tbs_certificate"]["validity"]
    return {
        "subject": certificate.subject.human_friendly,
        "issuer": certificate.issuer.human_friendly,
        "not_before": validity["not_before"].native.isoformat(),
        "not_after": validity["not_after"].native.isoformat(),
        "sha256": fingerprint(certificate),
    }


def is_development_setup() -> bool:
    """Whether the settings point at the development identity in SIGNING_DEV_DIR."""
    dev_dir = Path(settings.SIGNING_DEV_DIR).resolve()
    configured = [settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE, settings.SIGNING_ROOT_CERT_FILE]
    return not settings.SIGNING_PKCS12_FILE and all(
        value and Path(value).resolve().parent == dev_dir for value in configured
    )


def _ensure_development_identity() -> None:
    """With DEBUG on and the development paths configured, make the identity on first use so that
    `make run` needs no extra step. In production nothing is ever made behind anyone's back."""
    if settings.DEBUG and is_development_setup() and not Path(settings.SIGNING_KEY_FILE).exists():
        create_development_identity(Path(settings.SIGNING_DEV_DIR))


_signer_cache: dict[tuple, "CoalitionSigner"] = {}


def load_signer() -> "CoalitionSigner":
    """The configured key and certificate (with the root in the chain), ready to sign. Read once
    per process, and again when the settings or the files change.

    Raises `SigningIdentityMissing` with a message saying what to set when nothing usable is
    configured, or what could not be read."""
    _ensure_development_identity()
    if settings.SIGNING_PKCS12_FILE:
        files = ["SIGNING_PKCS12_FILE"]
    elif settings.SIGNING_KEY_FILE and settings.SIGNING_CERT_FILE:
        files = ["SIGNING_KEY_FILE", "SIGNING_CERT_FILE"]
    else:
        raise SigningIdentityMissing(
            "No signing identity is configured: set SIGNING_PKCS12_FILE and SIGNING_PKCS12_PASSPHRASE, "
            "or SIGNING_KEY_FILE and SIGNING_CERT_FILE (and SIGNING_ROOT_CERT_FILE)."
        )
    if settings.SIGNING_ROOT_CERT_FILE:
        files.append("SIGNING_ROOT_CERT_FILE")
    cache_key = tuple((name, _require_file(name), os.stat(getattr(settings, name)).st_mtime_ns) for name in files)
    if cache_key not in _signer_cache:
        _signer_cache.clear()
        _signer_cache[cache_key] = _read_signer()
    return _signer_cache[cache_key]


def _require_file(setting: str) -> str:
    value = getattr(settings, setting)
    if not Path(value).is_file():
        raise SigningIdentityMissing(f"{setting} points to {value}, which does not exist.")
    return value


def _passphrase(setting: str) -> bytes | None:
    value = getattr(settings, setting)
    return value.encode() if value else None


def _read_signer() -> "CoalitionSigner":
    try:
        if settings.SIGNING_PKCS12_FILE:
            data = Path(settings.SIGNING_PKCS12_FILE).read_bytes()
            key, certificate, chain = pkcs12.load_key_and_certificates(data, _passphrase("SIGNING_PKCS12_PASSPHRASE"))
        else:
            key_data = Path(settings.SIGNING_KEY_FILE).read_bytes()
            key = serialization.load_pem_private_key(key_data, _passphrase("SIGNING_KEY_PASSPHRASE"))
            certificate, *chain = x509.load_pem_x509_certificates(Path(settings.SIGNING_CERT_FILE).read_bytes())
    except (ValueError, TypeError) as exc:
        raise SigningIdentityMissing(f"The signing key or certificate could not be read: {exc}") from exc
    if key is None or certificate is None:
        raise SigningIdentityMissing("The PKCS#12 file holds no private key or no certificate.")
    if settings.SIGNING_ROOT_CERT_FILE:
        chain = [*chain, *x509.load_pem_x509_certificates(Path(settings.SIGNING_ROOT_CERT_FILE).read_bytes())]
    return CoalitionSigner.from_keys(key, certificate, chain)


def _read_certificate(path: str) -> asn1_x509.Certificate:
    data = Path(path).read_bytes()
    if asn1_pem.detect(data):
        _, _, data = asn1_pem.unarmor(data)
    return asn1_x509.Certificate.load(data)


def trust_root() -> asn1_x509.Certificate:
    """The certificate verification trusts: SIGNING_ROOT_CERT_FILE, or the signing certificate
    itself when no root is configured. Needs no private key."""
    _ensure_development_identity()
    if settings.SIGNING_ROOT_CERT_FILE:
        return _read_certificate(_require_file("SIGNING_ROOT_CERT_FILE"))
    if settings.SIGNING_CERT_FILE:
        return _read_certificate(_require_file("SIGNING_CERT_FILE"))
    return load_signer().signing_cert


def trust_root_pem() -> bytes:
    """The trust root as a PEM file, for people to download and import into their PDF reader."""
    return asn1_pem.armor("CERTIFICATE", trust_root().dump())


def signing_certificate() -> asn1_x509.Certificate:
    """The certificate published PDFs are signed with (its fingerprint is stored with each
    publication)."""
    return load_signer().signing_cert


# Development identity ---------------------------------------------------------------------------


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _key_usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing, content_commitment=signing, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=not signing,
        crl_sign=not signing, encipher_only=False, decipher_only=False,
    )


def _issue(subject: x509.Name, key, issuer: x509.Name, issuer_key, *, ca: bool, days: int) -> x509.Certificate:
    now = datetime.now(UTC) - timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(_key_usage(signing=not ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, data: bytes, *, private: bool) -> None:
    temporary = path.with_name(path.name + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with os.fdopen(os.open(temporary, flags, 0o600 if private else 0o644), "wb") as handle:
        handle.write(data)
    temporary.replace(path)


def create_development_identity(folder: Path, *, name: str = DEV_NAME, replace: bool = False) -> DevelopmentIdentity:
    """Make a development root CA and a signing certificate issued by it (keyUsage
    digitalSignature and nonRepudiation) in `folder`. Leaves an existing identity alone unless
    `replace` is true. The private keys are written readable by their owner only; the folder must
    never be committed."""
    folder = Path(folder)
    paths = DevelopmentIdentity(
        folder, folder / DEV_ROOT_CERT, folder / DEV_SIGNING_KEY, folder / DEV_SIGNING_CERT, created=False
    )
    if paths.signing_key.exists() and paths.signing_cert.exists() and paths.root_cert.exists() and not replace:
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    signing_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    root_name = _name(f"{name} root CA", name)
    root = _issue(root_name, root_key, root_name, root_key, ca=True, days=3650)
    leaf = _issue(_name(name, name), signing_key, root_name, root_key, ca=False, days=3 * 365)
    pem, no_encryption = serialization.Encoding.PEM, serialization.NoEncryption()
    pkcs8 = serialization.PrivateFormat.PKCS8
    _write(folder / DEV_ROOT_KEY, root_key.private_bytes(pem, pkcs8, no_encryption), private=True)
    _write(paths.signing_key, signing_key.private_bytes(pem, pkcs8, no_encryption), private=True)
    _write(paths.root_cert, root.public_bytes(pem), private=False)
    _write(paths.signing_cert, leaf.public_bytes(pem), private=False)
    return DevelopmentIdentity(paths.folder, paths.root_cert, paths.signing_key, paths.signing_cert, created=True)
