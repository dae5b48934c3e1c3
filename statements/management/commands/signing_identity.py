"""`manage.py signing_identity`: make the development signing identity, or show the configured one."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from statements import pdf_signing


class Command(BaseCommand):
    help = (
        "Show the configured signing identity (subject, issuer, validity, SHA-256 fingerprints) and, "
        "with a timestamp server, the long-term validation data (timestamp roots, revocation lists). "
        "In development, first make a root CA and a signing certificate issued by it in "
        "SIGNING_DEV_DIR, unless they exist (--replace makes new ones)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", default=pdf_signing.DEV_NAME, help="Organisation named in a new development certificate.")
        parser.add_argument("--replace", action="store_true", help="Replace an existing development identity.")

    def handle(self, *args, name, replace, **options):
        if pdf_signing.is_development_setup():
            made = pdf_signing.create_development_identity(Path(settings.SIGNING_DEV_DIR), name=name, replace=replace)
            verb = "Made" if made.created else "Using existing"
            self.stdout.write(f"{verb} development identity in {made.folder} (never commit this folder).")
        elif replace:
            raise CommandError("--replace only applies to the development identity; production files are the operator's.")
        try:
            certificate, root = pdf_signing.signing_certificate(), pdf_signing.trust_root()
        except pdf_signing.SigningIdentityMissing as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Private key: {pdf_signing.describe_key()}")
        self._show("Signing certificate", certificate)
        self._show("Trust root", root)
        timestamps = f"{settings.SIGNING_TIMESTAMP_URL} (PAdES B-LTA)" if settings.SIGNING_TIMESTAMP_URL else "none (PAdES B-B)"
        self.stdout.write(f"Timestamp server: {timestamps}")
        if settings.SIGNING_TIMESTAMP_URL:
            self._show_long_term_validation()

    def _show_long_term_validation(self) -> None:
        try:
            roots, lists = pdf_signing.timestamp_roots()[1:], pdf_signing.revocation_lists()
        except pdf_signing.ValidationDataMissing as exc:
            raise CommandError(str(exc)) from exc
        for root in roots:
            self._show("Timestamp authority root", root)
        for crl in lists:
            self.stdout.write(self.style.MIGRATE_HEADING("Revocation list"))
            for key, value in pdf_signing.describe_crl(crl).items():
                self.stdout.write(f"  {key.replace('_', ' ')}: {value}")
        if not lists:
            self.stdout.write("Revocation lists: none (SIGNING_CRL_FILES)")
        fetching = "on" if settings.SIGNING_REVOCATION_FETCH else "off"
        self.stdout.write(f"Fetching revocation information (SIGNING_REVOCATION_FETCH): {fetching}")

    def _show(self, heading: str, certificate) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(heading))
        for key, value in pdf_signing.describe(certificate).items():
            self.stdout.write(f"  {key.replace('_', ' ')}: {value}")
