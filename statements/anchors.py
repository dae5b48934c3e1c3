"""The audit log's anchors: the chain's head (event number and hash) that each publication noted
when its PDF was made, printed in that PDF and listed on /transparency/ for anyone to archive.

`for_audit()` is what `coalition.audit.verify()` checks the chain against (registered in
`StatementsConfig.ready`, since coalition sits below this app): every anchor, and for every issue
that went public, its `statement.publication_released` event, which comes after the anchor and
so would otherwise be lost unseen with the tail of the log.
"""

from collections.abc import Iterator

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from coalition import audit

from .models import Publication, Statement


def public() -> QuerySet[Publication]:
    """The anchors of every public issue, newest release first (what /transparency/ lists)."""
    return (Publication.objects.public().filter(audit_event_id__isnull=False)
            .select_related("statement", "revision").defer("signatories", "revision__body", "revision__body_html")
            .order_by("-released_at", "-pk"))


def as_json(publication: Publication) -> dict:
    statement = publication.statement
    return {
        "statement": statement.slug,
        "title": publication.revision.title,
        "url": settings.SITE_URL + statement.get_absolute_url(),
        "issue": publication.number,
        "released_at": publication.released_at.isoformat(),
        "pdf_sha256": publication.sha256,
        "pdf_url": settings.SITE_URL + reverse("statement_pdf", args=[statement.slug]) + f"?issue={publication.number}",
        "audit_event": publication.audit_event_id,
        "audit_hash": publication.audit_hash,
    }


def _issue(number: int, slug: str):
    # Lazy: read in the language of whoever reads the finding (an operator's email, the command).
    return format_lazy(_("issue {number} of the statement {slug}"), number=number, slug=slug)


def for_audit() -> Iterator[audit.Anchor | audit.Expected]:
    """Every anchor any issue noted (public or not: each was the log's head at its moment), and
    the release event of every issue that went public."""
    rows = (Publication.objects.filter(audit_event_id__isnull=False) | Publication.objects.filter(
        released_at__isnull=False)).values_list("number", "statement_id", "statement__slug", "audit_event_id",
                                                "audit_hash", "released_at")
    object_type = Statement._meta.label_lower
    for number, statement_id, slug, event_id, event_hash, released_at in rows.order_by("pk").iterator():
        if event_id is not None:
            yield audit.Anchor(event_id, event_hash, _issue(number, slug))
        if released_at is not None:
            yield audit.Expected("statement.publication_released", object_type, str(statement_id),
                                 format_lazy(_("the release of {issue} (at {moment} UTC)"), issue=_issue(number, slug),
                                             moment=released_at.strftime("%Y-%m-%d %H:%M")),
                                 data={"issue": number})
