"""Publishing: numbered issues of a statement as signed PDFs, their release, and verification.

A coordinator's publish (or correction) writes a pending `Publication` with the signatories as they
stand, and queues `tasks.prepare_publication` after commit. The task renders and signs the PDF and
stores it byte for byte; an issue without an embargo goes public at once, an embargoed one when
`release_due` (a periodic task) finds its time has come. Going public tells every signatory.
"""

import dataclasses
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimestampRequestError

from coalition import audit, look, names, permissions
from coalition.models import User
from coalition.queue import celery_task

from .. import notifications, pdf, pdf_signing, sandbox, selectors, storage, text, workflow
from ..selectors import frozen_name
from ..models import Publication, Statement
from ..workflow import Transition

log = logging.getLogger(__name__)

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
FAILURE_MAX_LENGTH = 2000


# Starting an issue ------------------------------------------------------------------------------


def _snapshot(statement: Statement) -> dict:
    """The signatories as the statement page lists them now: frozen into the issue. Each
    organisation with its name in every language (so that the issue reads the same after it
    renames itself), the SHA-256 of the text it signed and when it signed it (or confirmed it
    after a change); individuals by name and affiliation, never by address."""
    found = selectors.signatories(statement)
    return {
        "organisations": [{"name": s.organisation.name, "slug": s.organisation.slug, "sha256": s.sha256,
                           "signed_at": (s.rebound_at or s.created_at).isoformat(),
                           "names": {language: s.organisation.name_in(language) for language in names.languages()}}
                          for s in found.organisations],
        "individuals": [{"name": s.name, "affiliation": s.affiliation} for s in found.individuals],
    }


def organisation_names(signatories: dict, language: str | None = None) -> list[str]:
    """The organisations of a frozen list, in order, named in `language` (the active one by
    default)."""
    language = language or names.active_language()
    return [frozen_name(o, language) for o in signatories.get("organisations", [])]


def start_issue(statement: Statement, *, by: User, note: str = "", public_from: datetime | None = None,
                revision=None) -> Publication:
    """Write the next issue (pending) and queue its PDF after commit. Runs in the caller's
    transaction, with the statement locked by it."""
    number = (statement.publications.aggregate(n=Max("number"))["n"] or 0) + 1
    revision = revision or statement.signed_revision
    with translation.override(revision.language):  # alphabetical in the order of the PDF's language
        signatories = _snapshot(statement)
    publication = Publication.objects.create(
        statement=statement, number=number, revision=revision,
        signatories=signatories, correction_note=note, public_from=public_from, created_by=by,
        places=statement.publication_places(),
    )
    _queue_after_commit(publication.pk)
    return publication


def _queue_after_commit(publication_id: int) -> None:
    """Queue the PDF after commit. If the broker cannot take it (Redis down), the issue stays
    pending and `pending_ids` finds it for the periodic sweep: the coordinator's request succeeds."""
    def queue_pdf():
        try:
            celery_task("statements.tasks.prepare_publication").delay(publication_id)
        except Exception:  # noqa: BLE001 (the sweep picks it up)
            log.warning("Publication %s could not be queued; the sweep will prepare it", publication_id,
                        exc_info=True)

    transaction.on_commit(queue_pdf)


def pending_ids(now: datetime | None = None) -> list[int]:
    """Issues pending for longer than PUBLICATION_STALE_SECONDS: their task was lost (broker
    down, worker killed) and the sweep queues them again. Preparing is idempotent, so an issue
    still being prepared elsewhere is at worst made twice and written once."""
    since = (now or timezone.now()) - timedelta(seconds=settings.PUBLICATION_STALE_SECONDS)
    return list(Publication.objects.filter(state=Publication.State.PENDING, created_at__lte=since)
                .values_list("pk", flat=True))


@transaction.atomic
def publish_correction(statement: Statement, *, by: User, note: str) -> Publication:
    """A coordinator publishes a corrected issue (n+1) of a published statement, from its current
    text and signatories, saying what changed; earlier issues stay, marked superseded."""
    statement = Statement.objects.select_for_update().get(pk=statement.pk)
    permissions.require(permissions.can_publish(by, statement))
    workflow.check(statement, Transition.CORRECT)
    note = text.normalise(note)
    if not note:
        raise ValidationError(_("Say what the correction changes."), code="note")
    if statement.publications.filter(released_at__isnull=True).exists():
        # A pending, failed or embargoed issue comes first: a correction must not overtake it.
        raise ValidationError(_("An issue is still being prepared, has failed or is not yet public: "
                                "deal with it first."), code="pending")
    publication = start_issue(statement, by=by, note=note, revision=statement.current_revision)
    audit.record(by, "statement.corrected", statement, issue=publication.number, note=note,
                 sha256=publication.revision.sha256)
    return publication


@transaction.atomic
def retry(publication: Publication, *, by: User) -> Publication:
    """A coordinator tries a failed issue again: it goes back to pending, with a fresh count of
    attempts (PUBLICATION_MAX_ATTEMPTS), and is queued. The attempts made so far are in the
    audit event."""
    publication = Publication.objects.select_for_update().select_related("statement__coalition").get(
        pk=publication.pk)
    permissions.require(permissions.can_publish(by, publication.statement))
    if publication.state != Publication.State.FAILED:
        raise ValidationError(_("Only an issue that failed can be tried again."), code="state")
    earlier_attempts = publication.attempts
    publication.state, publication.failure, publication.attempts = Publication.State.PENDING, "", 0
    publication.save(update_fields=["state", "failure", "attempts"])
    audit.record(by, "statement.publication_retried", publication.statement, issue=publication.number,
                 attempts=earlier_attempts)
    _queue_after_commit(publication.pk)
    return publication


# Preparing the PDF ------------------------------------------------------------------------------


def verification_url(statement: Statement) -> str:
    return f"{settings.SITE_URL}{reverse('verify')}?statement={statement.slug}"


def signatories_url(statement: Statement) -> str:
    """The statement's page of all its signatories (/statements/<slug>/signatories/)."""
    return f"{settings.SITE_URL}{reverse('statement_detail', args=[statement.slug])}signatories/"


def short_url(statement: Statement) -> str:
    host = settings.SITE_URL.split("://", 1)[-1]
    return f"{host}{reverse('short_link', args=[statement.pk])}"


def _translations(revision) -> list[pdf.Translation]:
    latest = {}
    for translation in revision.translations.order_by("number"):
        latest[translation.language] = translation
    return [pdf.Translation(language=r.language, title=r.title, body_html=r.body_html, summary=r.summary)
            for _language, r in sorted(latest.items())]


def _signed_organisations(signatories: dict, language: str) -> list[pdf.SignedOrganisation]:
    """The frozen organisations as the PDF of `language` prints and embeds them (bare names in
    older issues)."""
    return [pdf.SignedOrganisation(frozen_name(o, language), o.get("slug", ""), o.get("sha256", ""),
                                   o.get("signed_at", ""), tuple(sorted((o.get("names") or {}).items())))
            if isinstance(o, dict) else pdf.SignedOrganisation(o) for o in signatories.get("organisations", [])]


def document(publication: Publication) -> pdf.PdfDocument:
    """What the issue prints: the published text, the frozen signatories, and where to verify it."""
    statement, revision = publication.statement, publication.revision
    return pdf.PdfDocument(
        coalition_name=statement.coalition.name_in(revision.language), title=revision.title,
        language=revision.language,
        summary=revision.summary, body_html=revision.body_html, text_sha256=revision.sha256,
        verification_url=verification_url(statement), short_url=short_url(statement),
        date=timezone.localdate(publication.public_from or publication.created_at), place=publication.place_in(revision.language),
        organisations=_signed_organisations(publication.signatories, revision.language), slug=statement.slug,
        signatories_url=signatories_url(statement),
        individuals=[pdf.Signatory(i["name"], i.get("affiliation", ""))
                     for i in publication.signatories.get("individuals", [])],
        issue=publication.number, correction_note=publication.correction_note,
        translations=_translations(revision),
        audit_event_id=publication.audit_event_id, audit_hash=publication.audit_hash,
    )


def printed_document(publication: Publication) -> pdf.PdfDocument:
    """`document`, with the coalition's look as it is now: its logo (read from storage; if it
    cannot be read, the site's mark) and its accent colour. Only the file being made needs them."""
    coalition = publication.statement.coalition
    logo = look.read_logo(coalition) or b""
    return dataclasses.replace(document(publication), logo=logo, accent=coalition.accent,
                               logo_kind=look.logo_kind(coalition.logo) if logo else "")


def _claim(publication_id: int) -> Publication | None:
    """Count one more attempt at a pending issue and return it, or None if there is nothing to
    do. An issue already started PUBLICATION_MAX_ATTEMPTS times is marked failed instead: each
    of those runs was claimed and never finished (a failure that raises marks it failed at once),
    so the worker was killed making it, and the sweep would otherwise queue it for ever."""
    with transaction.atomic():
        publication = Publication.objects.select_for_update().filter(pk=publication_id).first()
        if publication is None or publication.state != Publication.State.PENDING:
            return None  # ready (nothing to do twice), failed (waits for a coordinator) or gone
        if publication.attempts >= settings.PUBLICATION_MAX_ATTEMPTS:
            log.error("Publication %s was started %s times and never finished; marked failed",
                      publication_id, publication.attempts)
            publication.state, publication.failure = Publication.State.FAILED, _abandoned(publication.attempts)
            publication.save(update_fields=["state", "failure"])
            return None
        publication.attempts += 1
        # The audit log's head as this PDF is made: printed in it and kept with it (its anchor).
        publication.audit_event_id, publication.audit_hash = audit.head() or (None, "")
        publication.save(update_fields=["attempts", "audit_event_id", "audit_hash"])
    return Publication.objects.select_related("statement__coalition", "revision").get(pk=publication_id)


def _abandoned(attempts: int) -> str:
    return ngettext("The PDF could not be made after %(attempts)d attempt; the worker stopped each time.",
                    "The PDF could not be made after %(attempts)d attempts; the worker stopped each time.",
                    attempts) % {"attempts": attempts}


def _failure_reason(exc: Exception) -> str:
    if isinstance(exc, pdf_signing.SigningIdentityMissing):
        return _("No signing key is configured: %(error)s") % {"error": exc}
    if isinstance(exc, TimestampRequestError):
        return _("The timestamp server did not answer; try again later. (%(error)s)") % {"error": exc}
    if isinstance(exc, SigningError) and exc.__cause__ is not None:  # long-term validation checks the chain first
        return _("The signing certificate could not be validated: %(error)s") % {"error": exc.__cause__}
    return _("Making the PDF failed: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}


def prepare(publication_id: int) -> Publication | None:
    """Render, sign and store the PDF of a pending issue, and mark it ready (and public, unless
    embargoed). Idempotent: an issue no longer pending is left as it is, and of two runs at once
    only the first to finish writes. A failure marks the issue failed, with the reason."""
    publication = _claim(publication_id)
    if publication is None:
        return None
    try:
        signed = pdf.sign_pdf(pdf.render_pdf(printed_document(publication)),
                              signer_name=publication.statement.coalition.name_in(publication.revision.language),
                              language=publication.revision.language)
        fingerprint = pdf_signing.fingerprint(pdf_signing.signing_certificate())
    except Exception as exc:  # noqa: BLE001 (whatever went wrong, coordinators see why and can retry)
        log.exception("Publication %s could not be prepared", publication_id)
        _mark_failed(publication_id, _failure_reason(exc))
        return Publication.objects.get(pk=publication_id)
    return _store(publication_id, signed, fingerprint, anchor=(publication.audit_event_id, publication.audit_hash))


@transaction.atomic
def _mark_failed(publication_id: int, reason: str) -> None:
    publication = Publication.objects.select_for_update().get(pk=publication_id)
    if publication.state == Publication.State.PENDING:
        publication.state, publication.failure = Publication.State.FAILED, reason[:FAILURE_MAX_LENGTH]
        publication.save(update_fields=["state", "failure"])


@transaction.atomic
def _store(publication_id: int, signed: bytes, fingerprint: str, anchor: tuple[int | None, str]) -> Publication:
    publication = Publication.objects.select_for_update().select_related("statement").get(pk=publication_id)
    if publication.state != Publication.State.PENDING:
        return publication
    # save=False: the row is saved once below, with the file's name, hash and state together.
    publication.pdf.save(publication.file_name, ContentFile(signed), save=False)
    publication.sha256, publication.certificate_sha256 = pdf.sha256(signed), fingerprint
    publication.state, publication.failure = Publication.State.READY, ""
    publication.ready_at = timezone.now()
    # The anchor this file prints (a second run claiming it meanwhile may have noted a newer one).
    publication.audit_event_id, publication.audit_hash = anchor
    publication.save(update_fields=["pdf", "sha256", "certificate_sha256", "state", "failure", "ready_at",
                                    "audit_event_id", "audit_hash"])
    if publication.public_from is None or publication.public_from <= publication.ready_at:
        release(publication)
    return publication


# Going public ---------------------------------------------------------------------------------


def release(publication: Publication) -> None:
    """Make a ready issue public (in the caller's transaction): its statement too, if embargoed
    until now; then tell every signatory, once per issue."""
    now = timezone.now()
    publication.released_at = now
    publication.save(update_fields=["released_at"])
    statement = publication.statement
    if statement.published_at is None:
        statement.published_at = publication.public_from or now
        statement.save(update_fields=["published_at"])
    audit.record(None, "statement.publication_released", statement, issue=publication.number,
                 sha256=publication.sha256)
    notifications.publication_released(publication)


def release_due(now: datetime | None = None) -> int:
    """Release every ready issue whose embargo has passed; returns how many. Idempotent."""
    released = 0
    due = Publication.objects.ready().filter(released_at__isnull=True, public_from__lte=now or timezone.now())
    for publication_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            publication = (Publication.objects.select_for_update().select_related("statement")
                           .filter(pk=publication_id, released_at__isnull=True).first())
            if publication is None:
                continue
            release(publication)
            released += 1
    return released


# Verifying --------------------------------------------------------------------------------------


class Outcome:
    AUTHENTIC = "authentic"
    CHANGED = "changed"
    UNKNOWN = "unknown"


@dataclass
class Answer:
    outcome: str
    sha256: str
    publication: Publication | None = None
    verification: pdf.Verification | None = None
    status: selectors.IssueStatus | None = None  # for an authentic file: what its issue stands for today


def _published(sha256: str) -> Publication | None:
    return (Publication.objects.public().select_related("statement__current_revision", "revision")
            .defer("signatories").filter(sha256=sha256).first())


def verify_file(data: bytes) -> Answer:
    """Is this file one we published, unchanged? Its signature is checked against the configured
    trust root, and its SHA-256 against the issues we published. A file with the SHA-256 of an
    issue is that issue's own file, checked here; any other is checked in a process of its own
    with limits, and one that exceeds them raises `sandbox.TooComplex`."""
    publication = _published(pdf.sha256(data))
    verification = pdf.verify_pdf(data) if publication is not None else sandbox.verify_untrusted(data)
    if publication is not None and verification.authentic:
        return Answer(Outcome.AUTHENTIC, verification.sha256, publication, verification,
                      selectors.issue_status(publication))
    if verification.has_signature and (not verification.intact or verification.trusted):
        # Signed by us but not byte for byte an issue we published, or its signature broken.
        return Answer(Outcome.CHANGED, verification.sha256, None, verification)
    return Answer(Outcome.UNKNOWN, verification.sha256, None, verification)


def verify_sha256(sha256: str) -> Answer:
    """Is this the SHA-256 of an issue we published? If so, its stored file is checked too."""
    publication = _published(sha256)
    if publication is None:
        return Answer(Outcome.UNKNOWN, sha256)
    try:
        with publication.pdf.open("rb") as stored:
            verification = pdf.verify_pdf(stored.read())
    except storage.READ_ERRORS:
        # The hash is one we published; without our copy, only that much can be said.
        log.exception("The stored PDF of publication %s cannot be read", publication.pk)
        return Answer(Outcome.AUTHENTIC, sha256, publication, status=selectors.issue_status(publication))
    if not verification.authentic:
        return Answer(Outcome.CHANGED, sha256, publication, verification)
    return Answer(Outcome.AUTHENTIC, sha256, publication, verification, selectors.issue_status(publication))
