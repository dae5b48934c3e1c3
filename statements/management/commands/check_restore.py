"""`manage.py check_restore`: after a restore (or at any time), check that every ready
publication's stored PDF is the file that was published (its SHA-256) and that its signature is
intact and the coalition's (what /verify/ checks), then walk the audit log against its anchors (what
`verify_audit` runs). Prints a summary; exits non-zero on any problem (docs/deploy.md, "Backup and
restore")."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coalition import audit
from statements import pdf, pdf_signing, storage
from statements.models import Publication


class Command(BaseCommand):
    help = (
        "Check every ready publication's stored PDF against its published SHA-256 and its signature "
        "(intact, and made by the certificate recorded for the issue), then the audit log's chain and "
        "anchors. With --transparency, also check the anchors of a copy of /transparency/?format=json "
        "saved before the restore (publications missing since then are named). Exits non-zero on any "
        "problem."
    )

    def add_arguments(self, parser):
        parser.add_argument("--transparency", nargs="*", default=[], metavar="FILE",
                            help="Saved pages of /transparency/?format=json whose anchors must be in the log.")

    def handle(self, *args, transparency, **options):
        try:
            pdf_signing.trust_root()
        except pdf_signing.SigningIdentityMissing as exc:
            raise CommandError(f"No trust root to check signatures against: {exc}") from exc
        problems, checked = self._check_publications()
        self.stdout.write(f"{checked} ready publications checked: {checked - len(problems)} authentic, "
                          f"{len(problems)} with problems.")
        for state in (Publication.State.PENDING, Publication.State.FAILED):
            count = Publication.objects.filter(state=state).count()
            if count:
                self.stdout.write(f"{count} publications {state} (not checked: they have no file yet).")
        archived = self._archived_anchors(transparency)
        problems += self._check_archived(archived)
        problems += self._check_audit(archived)
        if problems:
            raise CommandError("\n".join(["Problems found:", *(f"- {p}" for p in problems)]))
        self.stdout.write(self.style.SUCCESS("Restore checked: every publication and the audit log are intact."))

    def _check_publications(self) -> tuple[list[str], int]:
        problems, checked = [], 0
        ready = Publication.objects.ready().select_related("statement").defer("signatories").order_by("pk")
        for publication in ready.iterator(chunk_size=100):
            checked += 1
            problem = self._problem(publication)
            if problem:
                problems.append(f"issue {publication.number} of {publication.statement.slug} "
                                f"({publication.pdf.name or 'no file'}): {problem}")
        return problems, checked

    @staticmethod
    def _problem(publication: Publication) -> str:
        if not publication.pdf:
            return "the database names no file"
        try:
            with publication.pdf.open("rb") as stored:
                data = stored.read()
        except storage.READ_ERRORS as exc:
            return f"the file cannot be read from the storage ({exc.__class__.__name__}: {exc})"
        if pdf.sha256(data) != publication.sha256:
            return f"the file's SHA-256 is {pdf.sha256(data)}, but {publication.sha256} was published"
        verification = pdf.verify_pdf(data)
        if not verification.authentic:
            return f"the signature does not verify: {verification.problem}"
        if publication.certificate_sha256 and verification.certificate_sha256 != publication.certificate_sha256:
            return (f"signed by the certificate {verification.certificate_sha256}, but the issue records "
                    f"{publication.certificate_sha256}")
        return ""

    @staticmethod
    def _archived_anchors(files: list[str]) -> list[dict]:
        entries = []
        for name in files:
            try:
                page = json.loads(Path(name).read_text(encoding="utf-8"))
                results = page["results"] if isinstance(page, dict) else page
                entries += [{"statement": str(r["statement"]), "issue": int(r["issue"]),
                             "pdf_sha256": str(r["pdf_sha256"]), "audit_event": int(r["audit_event"]),
                             "audit_hash": str(r["audit_hash"])} for r in results]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise CommandError(f"{name} is not a saved page of /transparency/?format=json: {exc}") from exc
        return entries

    @staticmethod
    def _check_archived(entries: list[dict]) -> list[str]:
        if not entries:
            return []
        ready = set(Publication.objects.ready().values_list("sha256", flat=True))
        return [f"issue {e['issue']} of {e['statement']} (SHA-256 {e['pdf_sha256']}) was published, "
                "but the restored database does not have it" for e in entries if e["pdf_sha256"] not in ready]

    def _check_audit(self, archived: list[dict]) -> list[str]:
        report = audit.verify()
        problems = []
        if report.broken_event_id is not None:
            problems.append(f"audit log: chain broken at event {report.broken_event_id}: {report.reason}")
        problems += [f"audit log: {finding.describe()}" for finding in report.findings]
        extra = [audit.Anchor(e["audit_event"], e["audit_hash"], f"the saved anchor of issue {e['issue']} "
                                                                 f"of {e['statement']}") for e in archived]
        if extra:
            problems += [f"audit log: {finding.describe()}" for finding in audit.check_anchors(extra)]
        if report.intact:
            self.stdout.write(f"Audit log: chain intact, {report.count} events; {report.anchors} anchors and "
                              f"expected events checked" + (f", and {len(extra)} saved anchors." if extra else "."))
        return problems
