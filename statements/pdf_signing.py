"""The coalition's signing identity: the key and certificate that sign published PDFs, and the
root certificate that verification trusts (and that `/verify/` offers for download).

Settings (see coalition/settings.py):

- ``SIGNING_PKCS12_FILE`` + ``SIGNING_PKCS12_PASSPHRASE``, or
- ``SIGNING_KEY_FILE`` + ``SIGNING_CERT_FILE`` (PEM), with ``SIGNING_KEY_PASSPHRASE`` if the key
  is encrypted;
- ``SIGNING_PKCS11_MODULE`` + ``SIGNING_PKCS11_TOKEN_LABEL`` + ``SIGNING_PKCS11_KEY_LABEL``, with
  ``SIGNING_PKCS11_PIN`` or ``SIGNING_PKCS11_PIN_FILE``: a key that never leaves its token or HSM.
  The certificate is read from the token (``SIGNING_PKCS11_CERT_LABEL``, by default the key's
  label), or from ``SIGNING_CERT_FILE`` when that is set. Takes precedence over the files above.
- ``SIGNING_ROOT_CERT_FILE``: the trust root. Without it, the signing certificate itself is the
  trust root (a self-signed production certificate).

In development (DEBUG on, nothing configured) the files live in ``SIGNING_DEV_DIR`` and are made
on first use, or by ``manage.py signing_identity``: a development root CA and a signing
certificate issued by it.
"""

import atexit
import dataclasses
import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
import pkcs11
from pkcs11 import exceptions as pkcs11_errors
from pyhanko.sign import signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.pkcs11 import PKCS11Signer, select_pkcs11_signing_params
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.sig_validate import DEFAULT_SIGNATURE_VALIDATOR, SignatureValidationContext

DEV_ROOT_CERT = "root-cert.pem"
DEV_ROOT_KEY = "root-key.pem"
DEV_SIGNING_CERT = "signing-cert.pem"
DEV_SIGNING_KEY = "signing-key.pem"
DEV_ROOT_CRL = "root-crl.pem"
DEV_NAME = "Coalition Statements (development)"

log = logging.getLogger(__name__)


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
    root_crl: Path | None = None


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


def subject_in_words(certificate: asn1_x509.Certificate) -> dict[str, str]:
    """Who a certificate names, field by field, for a page to say in words rather than in X.500's
    ("Common Name: …, Organization: …"): its common name, organisation and country code."""
    subject = certificate.subject.native

    def first(key: str) -> str:
        value = subject.get(key) or ""
        return str(value[0] if isinstance(value, list) and value else value)

    return {"name": first("common_name"), "organisation": first("organization_name"), "country": first("country_name")}


def is_development_setup() -> bool:
    """Whether the settings point at the development identity in SIGNING_DEV_DIR."""
    dev_dir = Path(settings.SIGNING_DEV_DIR).resolve()
    configured = [settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE, settings.SIGNING_ROOT_CERT_FILE]
    return not settings.SIGNING_PKCS12_FILE and not settings.SIGNING_PKCS11_MODULE and all(
        value and Path(value).resolve().parent == dev_dir for value in configured
    )


def _ensure_development_identity() -> None:
    """With DEBUG on and the development paths configured, make the identity on first use so that
    `make run` needs no extra step. In production nothing is ever made behind anyone's back."""
    if settings.DEBUG and is_development_setup() and not Path(settings.SIGNING_KEY_FILE).exists():
        create_development_identity(Path(settings.SIGNING_DEV_DIR))


_signer_cache: dict[tuple, "CoalitionSigner"] = {}


def load_signer() -> "CoalitionSigner | TokenSigner":
    """The configured key and certificate (with the root in the chain), ready to sign. Read once
    per process, and again when the settings or the files change. With a PKCS#11 module
    configured, a signer over a logged-in session on the token (see `TokenSigner`).

    Raises `SigningIdentityMissing` with a message saying what to set when nothing usable is
    configured, or what could not be read."""
    if settings.SIGNING_PKCS11_MODULE:
        return _load_token_signer()
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


# PKCS#11 tokens and HSMs -------------------------------------------------------------------------

# python-pkcs11 initialises a module without locking callbacks, which tells the module that it is
# used from one thread at a time; pyHanko signs in a worker thread. Every call into a module goes
# under this lock (re-entrant: opening a session also loads its objects).
_token_lock = threading.RLock()
_token_signers: dict[tuple, "TokenSigner"] = {}
_initialised_in: dict[str, int] = {}  # module path -> the process id that initialised it
# (module, token label, SHA-256 of the PIN) the token refused: not offered again by this process,
# since tokens lock their PIN after a few wrong tries and /verify/ may ask for the certificate on
# every request.
_refused_pins: set[tuple[str, str, bytes]] = set()


class _SerialisedKey:
    """A token's private key whose signing calls hold `_token_lock`."""

    def __init__(self, key):
        self._key = key

    def sign(self, data: bytes, **kwargs) -> bytes:
        with _token_lock:
            return self._key.sign(data, **kwargs)


class TokenSigner(PKCS11Signer):
    """pyHanko's PKCS#11 signer over a session that `load_signer` opened and keeps for the
    process. The private key never leaves the token; the token signs. An error from the token
    closes the session, so the next attempt (a coordinator's retry) logs in afresh, and is
    reported as `SigningIdentityMissing` with what the token said."""

    token_label: str = ""

    def _load_objects(self):
        with _token_lock:
            super()._load_objects()
            if self._key_handle is not None and not isinstance(self._key_handle, _SerialisedKey):
                self._key_handle = _SerialisedKey(self._key_handle)

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        try:
            return await super().async_sign_raw(data, digest_algorithm, dry_run=dry_run)
        except pkcs11_errors.PKCS11Error as exc:
            _forget_token_signer(self)
            raise SigningIdentityMissing(
                f"The PKCS#11 token {self.token_label!r} could not sign: {_token_error(exc)}"
            ) from exc


def _token_error(exc: Exception) -> str:
    """python-pkcs11's exceptions often carry no text; their class names say what happened."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _token_pin() -> str:
    if settings.SIGNING_PKCS11_PIN_FILE:
        try:
            return Path(settings.SIGNING_PKCS11_PIN_FILE).read_text().strip()
        except OSError as exc:
            raise SigningIdentityMissing(
                f"SIGNING_PKCS11_PIN_FILE ({settings.SIGNING_PKCS11_PIN_FILE}) could not be read: {exc.strerror}."
            ) from exc
    if settings.SIGNING_PKCS11_PIN:
        return settings.SIGNING_PKCS11_PIN
    raise SigningIdentityMissing("SIGNING_PKCS11_MODULE is set: set SIGNING_PKCS11_PIN or SIGNING_PKCS11_PIN_FILE too.")


def _token_settings() -> tuple[str, str, str, str]:
    for name in ("SIGNING_PKCS11_TOKEN_LABEL", "SIGNING_PKCS11_KEY_LABEL"):
        if not getattr(settings, name):
            raise SigningIdentityMissing(f"SIGNING_PKCS11_MODULE is set: set {name} too.")
    module = settings.SIGNING_PKCS11_MODULE
    if not Path(module).is_file():
        raise SigningIdentityMissing(f"SIGNING_PKCS11_MODULE points to {module}, which does not exist.")
    key_label = settings.SIGNING_PKCS11_KEY_LABEL
    return module, settings.SIGNING_PKCS11_TOKEN_LABEL, key_label, settings.SIGNING_PKCS11_CERT_LABEL or key_label


def _load_token_signer() -> TokenSigner:
    module, token_label, key_label, cert_label = _token_settings()
    pin = _token_pin()
    files = tuple(
        (name, _require_file(name), os.stat(getattr(settings, name)).st_mtime_ns)
        for name in ("SIGNING_CERT_FILE", "SIGNING_ROOT_CERT_FILE") if getattr(settings, name)
    )
    # The process id is part of the key: a session opened before a fork is no use in the child.
    cache_key = (os.getpid(), module, token_label, key_label, cert_label, hashlib.sha256(pin.encode()).digest(), files)
    with _token_lock:
        if cache_key not in _token_signers:
            _close_token_sessions()
            _token_signers[cache_key] = _open_token_signer(module, token_label, key_label, cert_label, pin)
        return _token_signers[cache_key]


def _open_token_signer(module: str, token_label: str, key_label: str, cert_label: str, pin: str) -> TokenSigner:
    chain = []
    if settings.SIGNING_CERT_FILE:
        certificate, *chain = _read_certificates(settings.SIGNING_CERT_FILE)
    else:
        certificate = None
    if settings.SIGNING_ROOT_CERT_FILE:
        chain += _read_certificates(settings.SIGNING_ROOT_CERT_FILE)
    session = _open_token_session(module, token_label, pin)
    signer = TokenSigner(
        session, key_label=key_label, cert_label=None if certificate else cert_label,
        signing_cert=certificate, ca_chain=chain,
    )
    signer.token_label = token_label
    try:
        signer.signing_cert  # noqa: B018 (finds the key and the certificate now, so a missing one is reported here)
        matches = _key_matches_certificate(signer)
    except pkcs11_errors.PKCS11Error as exc:
        _close_session(session)
        hint = "SIGNING_PKCS11_KEY_LABEL" + ("" if certificate else ", SIGNING_PKCS11_CERT_LABEL or SIGNING_CERT_FILE")
        raise SigningIdentityMissing(
            f"The PKCS#11 token {token_label!r} cannot sign: {_token_error(exc)} (check {hint})."
        ) from exc
    if not matches:
        _close_session(session)
        raise SigningIdentityMissing(
            f"The key {key_label!r} on the PKCS#11 token {token_label!r} does not belong to the signing certificate "
            f"({signer.signing_cert.subject.human_friendly}): check "
            f"{'SIGNING_CERT_FILE' if certificate else 'SIGNING_PKCS11_CERT_LABEL'}."
        )
    return signer


_KEY_CHECK = b"Coalition Statements: does this key belong to this certificate?"


def _key_matches_certificate(signer: TokenSigner) -> bool:
    """Sign a fixed text on the token and check it with the certificate's public key: a certificate
    that is not the key's would make PDFs whose signature never validates."""
    mechanism = signer.get_signature_mechanism_for_digest("sha256")
    spec = select_pkcs11_signing_params(
        mechanism, "sha256", use_raw_mechanism=signer.use_raw_mechanism, sign_kwargs=signer.sign_kwargs(_KEY_CHECK)
    )
    data = spec.pre_sign_transform(_KEY_CHECK) if spec.pre_sign_transform else _KEY_CHECK
    signature = signer._key_handle.sign(data, **spec.sign_kwargs)
    if spec.post_sign_transform:
        signature = spec.post_sign_transform(signature)
    try:
        DEFAULT_SIGNATURE_VALIDATOR.validate_signature(
            signature, _KEY_CHECK, signer.signing_cert.public_key, mechanism,
            SignatureValidationContext(contextual_md_algorithm="sha256"),
        )
    except (InvalidSignature, ValueError):  # ValueError: a key of another kind than the certificate's
        return False
    return True


def _open_token_session(module: str, token_label: str, pin: str):
    try:
        library = pkcs11.lib(module)
        if _initialised_in.setdefault(module, os.getpid()) != os.getpid():
            library.reinitialize()  # a forked child must initialise the module again
            _initialised_in[module] = os.getpid()
    except pkcs11_errors.PKCS11Error as exc:
        raise SigningIdentityMissing(f"The PKCS#11 module {module} could not be loaded: {_token_error(exc)}") from exc
    try:
        token = library.get_token(token_label=token_label)
    except pkcs11_errors.NoSuchToken as exc:
        present = sorted(label for label in _token_labels(library) if label)  # unlabelled: not initialised
        raise SigningIdentityMissing(
            f"The PKCS#11 module {module} has no token labelled {token_label!r} (SIGNING_PKCS11_TOKEN_LABEL); "
            f"tokens present: {', '.join(repr(label) for label in present) or 'none'}."
        ) from exc
    except pkcs11_errors.PKCS11Error as exc:
        raise SigningIdentityMissing(f"The PKCS#11 token {token_label!r} could not be found: {_token_error(exc)}") from exc
    refused = f"The PKCS#11 token {token_label!r} refused the PIN (SIGNING_PKCS11_PIN or SIGNING_PKCS11_PIN_FILE)."
    attempt = (module, token_label, hashlib.sha256(pin.encode()).digest())
    if attempt in _refused_pins:
        raise SigningIdentityMissing(
            f"{refused} It is not offered again, lest the token lock it: change the setting, or restart the workers."
        )
    try:
        return token.open(user_pin=pin)
    except pkcs11_errors.PinIncorrect as exc:
        _refused_pins.add(attempt)
        raise SigningIdentityMissing(refused) from exc
    except pkcs11_errors.PinLocked as exc:
        raise SigningIdentityMissing(
            f"The PKCS#11 token {token_label!r} has locked its PIN after too many wrong attempts; "
            "its security officer must unlock it."
        ) from exc
    except pkcs11_errors.PKCS11Error as exc:
        raise SigningIdentityMissing(
            f"Could not log in to the PKCS#11 token {token_label!r}: {_token_error(exc)}"
        ) from exc


def _token_labels(library) -> list[str]:
    labels = []
    for slot in library.get_slots(token_present=True):
        try:
            labels.append(slot.get_token().label)
        except pkcs11_errors.PKCS11Error:  # a slot whose token went away meanwhile
            continue
    return labels


def _close_session(session) -> None:
    try:
        with _token_lock:
            session.close()
    except pkcs11_errors.PKCS11Error as exc:  # already gone with the token; nothing to release
        log.info("Closing a PKCS#11 session: %s", _token_error(exc))


def _forget_token_signer(signer: TokenSigner) -> None:
    with _token_lock:
        for key, cached in list(_token_signers.items()):
            if cached is signer:
                del _token_signers[key]
        if signer.pkcs11_session is not None:
            _close_session(signer.pkcs11_session)


def _close_token_sessions() -> None:
    """Log out of and close every session this process opened (one made before a fork belongs
    to the parent, and is only forgotten)."""
    with _token_lock:
        for (pid, *_), signer in list(_token_signers.items()):
            if pid == os.getpid():
                _close_session(signer.pkcs11_session)
        _token_signers.clear()


atexit.register(_close_token_sessions)


def describe_key() -> str:
    """Where the private key is, in words for the operator (`manage.py signing_identity`)."""
    if settings.SIGNING_PKCS11_MODULE:
        return (f"PKCS#11 token {settings.SIGNING_PKCS11_TOKEN_LABEL!r}, key {settings.SIGNING_PKCS11_KEY_LABEL!r} "
                f"(module {settings.SIGNING_PKCS11_MODULE})")
    return f"file {settings.SIGNING_PKCS12_FILE or settings.SIGNING_KEY_FILE}"


def _read_certificates(path: str) -> list[asn1_x509.Certificate]:
    """Every certificate in a PEM file (the first is the signing certificate in SIGNING_CERT_FILE)."""
    try:
        certificates = x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise SigningIdentityMissing(f"The certificate file {path} could not be read: {exc}") from exc
    return [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certificates]


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


# Long-term validation ---------------------------------------------------------------------------


class ValidationDataMissing(ImproperlyConfigured):
    """A file named for long-term validation (SIGNING_CRL_FILES, SIGNING_TIMESTAMP_ROOT_CERT_FILE)
    is missing or unreadable."""


def timestamp_roots() -> list[asn1_x509.Certificate]:
    """The roots a timestamp authority's certificate may chain to: the certificates in
    SIGNING_TIMESTAMP_ROOT_CERT_FILE, and the coalition's own trust root. Trusted for timestamps
    only, never for the signature itself."""
    roots = [trust_root()]
    path = settings.SIGNING_TIMESTAMP_ROOT_CERT_FILE
    if path:
        try:
            certificates = x509.load_pem_x509_certificates(Path(path).read_bytes())
        except (OSError, ValueError) as exc:
            raise ValidationDataMissing(f"SIGNING_TIMESTAMP_ROOT_CERT_FILE ({path}) could not be read: {exc}") from exc
        der = serialization.Encoding.DER
        roots += [asn1_x509.Certificate.load(c.public_bytes(der)) for c in certificates]
    return roots


def revocation_lists() -> list[asn1_crl.CertificateList]:
    """The certificate revocation lists in SIGNING_CRL_FILES (PEM or DER), embedded in each
    signed PDF so that its signature's revocation status can be checked offline, years later.
    A development identity's CRL is made if it is missing."""
    if settings.DEBUG and is_development_setup() and not (Path(settings.SIGNING_DEV_DIR) / DEV_ROOT_CRL).exists():
        create_development_identity(Path(settings.SIGNING_DEV_DIR))
    lists = []
    for path in settings.SIGNING_CRL_FILES:
        try:
            data = Path(path).read_bytes()
            for _, _, der in asn1_pem.unarmor(data, multiple=True) if asn1_pem.detect(data) else [(0, 0, data)]:
                crl = asn1_crl.CertificateList.load(der)
                crl.native  # parse now: a damaged file is a configuration error, not a signing failure
                lists.append(crl)
        except (OSError, ValueError) as exc:
            raise ValidationDataMissing(f"SIGNING_CRL_FILES: {path} could not be read: {exc}") from exc
    return lists


def describe_crl(crl: asn1_crl.CertificateList) -> dict[str, str]:
    """What an operator needs to keep a revocation list current: whose it is, when it was issued,
    when it must be replaced (past that, signing fails), how many certificates it revokes."""
    next_update = crl["tbs_cert_list"]["next_update"].native
    expired = next_update is not None and next_update < datetime.now(UTC)
    return {
        "issuer": crl.issuer.human_friendly,
        "this_update": crl["tbs_cert_list"]["this_update"].native.isoformat(),
        "next_update": (next_update.isoformat() if next_update else "none") + (" (EXPIRED: replace it)" if expired else ""),
        "revoked": str(len(crl["tbs_cert_list"]["revoked_certificates"] or [])),
    }


def long_term_validation_context():
    """What signing with long-term validation checks the signature and the timestamp against,
    and whose revocation information it embeds: the coalition's root and the timestamp roots,
    the configured CRLs, and fetching only when SIGNING_REVOCATION_FETCH is on. Every
    certificate below a root must have revocation information, or signing fails."""
    return ValidationContext(
        trust_roots=timestamp_roots(),
        crls=revocation_lists(),
        allow_fetching=settings.SIGNING_REVOCATION_FETCH,
        revocation_mode="require",
    )


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
        if not (folder / DEV_ROOT_CRL).exists() and (folder / DEV_ROOT_KEY).exists():
            write_development_crl(folder)  # an identity made before CRLs were
        return dataclasses.replace(paths, root_crl=folder / DEV_ROOT_CRL)
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
    write_development_crl(folder)
    return DevelopmentIdentity(
        paths.folder, paths.root_cert, paths.signing_key, paths.signing_cert, created=True,
        root_crl=folder / DEV_ROOT_CRL,
    )


def write_development_crl(folder: Path, *, revoked: tuple[int, ...] = ()) -> Path:
    """Have the development root CA in `folder` issue its certificate revocation list (revoking
    the certificates with the serial numbers in `revoked`; none by default), valid as long as the
    root, so that a signature's revocation status can be embedded without a network. Production
    CAs publish their own CRLs (SIGNING_CRL_FILES)."""
    folder = Path(folder)
    root = x509.load_pem_x509_certificate((folder / DEV_ROOT_CERT).read_bytes())
    root_key = serialization.load_pem_private_key((folder / DEV_ROOT_KEY).read_bytes(), password=None)
    now = datetime.now(UTC) - timedelta(minutes=5)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(now)
        .next_update(root.not_valid_after_utc)
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
        )
    path = folder / DEV_ROOT_CRL
    _write(path, builder.sign(root_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM), private=False)
    return path
