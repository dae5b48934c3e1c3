"""A local RFC 3161 timestamp authority for tests: an HTTP server on 127.0.0.1 (a free port, in a
thread) answering timestamp requests with pyHanko's `DummyTimeStamper`, whose certificate
(extended key usage timeStamping) is issued by a test root of its own, which also publishes a CRL.

    with TimestampAuthority(folder) as tsa:
        settings.SIGNING_TIMESTAMP_URL = tsa.url
        ...
        tsa.stop()   # the server stops answering (connections are refused) ...
        tsa.start()  # ... and comes back on the same URL
"""

import datetime
import functools
import http.server
import threading
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

DER = serialization.Encoding.DER
PEM = serialization.Encoding.PEM


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Time Authority"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _certificate(subject, key, issuer, issuer_key, *, ca: bool, days: int) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
        ), critical=True)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


@functools.cache
def _keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    """The root's key and the TSA's (the dummy TSA signs with RSA), made once per process: making
    them was most of a test TSA's start-up, and no test needs two authorities' keys to differ."""
    return (rsa.generate_private_key(public_exponent=65537, key_size=2048),
            rsa.generate_private_key(public_exponent=65537, key_size=2048))


class TimestampAuthority:
    """A test TSA. `root_cert_file` and `crl_file` (PEM, in `folder`) are what a deployment would
    set as SIGNING_TIMESTAMP_ROOT_CERT_FILE and add to SIGNING_CRL_FILES. `requests` counts the
    timestamps it issued."""

    def __init__(self, folder: Path):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        root_key, key = _keys()
        root = _certificate(_name("Test TSA root"), root_key, _name("Test TSA root"), root_key, ca=True, days=3650)
        self.certificate = _certificate(_name("Test TSA"), key, root.subject, root_key, ca=False, days=365)
        now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
        crl = (
            x509.CertificateRevocationListBuilder().issuer_name(root.subject)
            .last_update(now).next_update(root.not_valid_after_utc)
            .add_extension(x509.CRLNumber(1), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        self.root_cert_file = folder / "tsa-root-cert.pem"
        self.root_cert_file.write_bytes(root.public_bytes(PEM))
        self.crl_file = folder / "tsa-root-crl.pem"
        self.crl_file.write_bytes(crl.public_bytes(PEM))
        self.root = asn1_x509.Certificate.load(root.public_bytes(DER))
        self._stamper = DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(self.certificate.public_bytes(DER)),
            tsa_key=asn1_keys.PrivateKeyInfo.load(
                key.private_bytes(DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            ),
        )
        self.requests = 0
        self._server: http.server.ThreadingHTTPServer | None = None
        self._port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/"

    def _handler(self):
        authority = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
                body = authority._stamper.request_tsa_response(request).dump()
                authority.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def start(self) -> "TimestampAuthority":
        """Answer on 127.0.0.1: on a free port the first time, on the same one after `stop`."""
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self._port), self._handler())
        self._port = self._server.server_address[1]
        # Polled often, so that `stop` (at every test's end) returns at once rather than in up to 0.5 s.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop answering: connections to `url` are refused until `start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "TimestampAuthority":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    # `python -m tests.tsa FOLDER`: serve until stdin closes (bench/pdf_bench.py --timestamps runs
    # the authority in a process of its own, so its work is not counted as publishing's). Prints
    # the URL, the root certificate file and the CRL file on one line.
    import sys

    with TimestampAuthority(Path(sys.argv[1])) as authority:
        print(authority.url, authority.root_cert_file, authority.crl_file, flush=True)
        sys.stdin.read()
