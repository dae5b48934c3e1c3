"""Individuals' personal data: erasing a signature at its signer's request, and erasing
signatures that were never confirmed.

An individual signs with a name, an optional affiliation and an email address. The address is
never shown anywhere public; it serves the confirmation link and the "already signed" message.

Erasure, without an account: the person gives their address on /privacy/erase/; the page answers
the same whether or not it signed anything, after the same work (the address is looked up in a
task, after the request), and only if it did does an email follow, with a link
naming the signatures (signed by django.core.signing, valid ERASURE_LINK_HOURS). The link's page
lists them and a button erases them (a GET never does). For each signature:

- before its statement has a publication: the signature is withdrawn, and its name, affiliation
  and address are blanked; it leaves every list;
- once the statement has a publication (even one still being prepared): the name and affiliation
  are printed in the signed PDF, which is never changed, so they stay; the address is blanked.

Either way a keyed hash of the lowercased address stays on the row (in `email_sha256`, the
field's old name: HMAC-SHA256 with AUDIT_HASH_KEY, so nobody without the key can confirm a guessed
address against it), the same hash the audit log records for individual signing (`email_hmac`),
so the record still holds together without the address. Events and rows written before the
keyed hash keep the plain SHA-256 they were written with (`email_sha256` in the event's data):
the audit log is append-only.

Unsent messages about the signature are deleted; the rows of messages already sent (or
given up on) about it, and the erasure emails themselves, keep their kind and dates but lose their
recipient and text. One `signature.erased` audit event per signature, without the address.

Signatures never confirmed are erased the same way by beat's `purge_unconfirmed_signatures`,
UNCONFIRMED_SIGNATURE_DAYS after their confirmation link expired.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from coalition import addresses, audit, ratelimits
from coalition.models import EmailOptOut, OutboundEmail
from coalition.queue import celery_task

from .. import notifications
from ..models import ERASURE_FIELDS, Publication, Signature, Statement

SALT = "statements.erasure"
ERASURE_EMAIL_KIND = "erasure_link"
# Messages about a signature, by the start of their dedupe key (followed by the signature's id).
SIGNATURE_MESSAGE_KEYS = ("signature-confirmation", "signature-already-signed", "signed-text-changed")
PURGE_BATCH = 500


class BadLink(Exception):
    """The link was not made by this site (or names no signature)."""


class ExpiredLink(BadLink):
    """The link is genuine but older than ERASURE_LINK_HOURS."""


class UsedLink(BadLink):
    """Every signature the link names is erased already."""


def email_hash(email: str) -> str:
    """The hash kept in place of an individual's address: HMAC-SHA256, keyed with AUDIT_HASH_KEY,
    of the trimmed, lowercased address (`coalition.addresses.email_hash`)."""
    return addresses.email_hash(email)


def _erasable(email: str):
    # The same person's signatures, through any alias of the address (the link goes to the address given).
    return Signature.objects.filter(kind=Signature.Kind.INDIVIDUAL, email_canonical=addresses.canonical_email(email),
                                    erased_at__isnull=True)


def request_erasure(email: str, *, language: str, ip: str) -> None:
    """Someone asks for the signatures of `email` to be erased. Limited per IP and per address like
    subscribing (raises `ratelimits.RateLimited`); then the request does the same for every
    address, signed or not: it queues `tasks.send_erasure_link`, which looks the address up and
    emails the link only if it signed anything. So the time the page takes tells nothing."""
    ratelimits.check_erasure(ip=ip, email=email)
    address = email.strip()
    transaction.on_commit(lambda: celery_task("statements.tasks.send_erasure_link").delay(address, language))


@transaction.atomic
def send_erasure_link(email: str, *, language: str) -> str | None:
    """The work behind `request_erasure`, in a task: if `email` signed anything not yet erased,
    it is sent a link that erases those signatures; if not, nothing is sent. Returns the link's
    token (for tests; pages never show it), or None."""
    ids = sorted(_erasable(email).values_list("pk", flat=True))
    if not ids:
        return None
    token = signing.dumps({"s": ids, "n": secrets.token_hex(4)}, salt=SALT, compress=True)
    notifications.erasure_link(email.strip(), token=token, language=language, count=len(ids))
    return token


def signatures_for(token: str) -> list[Signature]:
    """The signatures an erasure link names that are not erased yet; raises ExpiredLink,
    UsedLink or BadLink."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.ERASURE_LINK_HOURS * 3600)
    except signing.SignatureExpired as exc:
        raise ExpiredLink(str(exc)) from exc
    except signing.BadSignature as exc:
        raise BadLink(str(exc)) from exc
    ids = data.get("s") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not all(isinstance(pk, int) for pk in ids):
        raise BadLink("no signatures named")
    signatures = list(Signature.objects.filter(pk__in=ids, kind=Signature.Kind.INDIVIDUAL)
                      .select_related("statement__current_revision", "statement__coalition").order_by("pk"))
    if not signatures:
        raise BadLink("no such signatures")
    waiting = [s for s in signatures if s.erased_at is None]
    if not waiting:
        raise UsedLink("erased already")
    for signature in waiting:
        signature.published = is_published(signature.statement)
    return waiting


def is_published(statement: Statement) -> bool:
    """Whether the statement has an issue (ready or being prepared): its signatures are frozen."""
    return Publication.objects.filter(statement_id=statement.pk).exists()


@transaction.atomic
def erase(token: str) -> list[Signature]:
    """The person pressed the button on the erasure link's page: every signature the link names
    is erased. Returns them, each with `published` telling whether its name stays in a PDF."""
    signatures = signatures_for(token)
    for signature in signatures:
        erase_signature(signature, reason="request")
    return signatures


@transaction.atomic
def erase_signature(signature: Signature, *, reason: str) -> Signature:
    """Erase one individual's signature as the module says; `reason` ("request" or "unconfirmed")
    goes into the audit event. Erasing an erased signature does nothing."""
    statement = Statement.objects.select_for_update().only("pk").get(pk=signature.statement_id)  # as signing locks
    row = Signature.objects.select_for_update().get(pk=signature.pk)
    published = is_published(statement)
    signature.published = published
    if row.erased_at is not None or row.kind != Signature.Kind.INDIVIDUAL:
        return row
    address, now = row.email, timezone.now()
    row.email, row.email_sha256, row.erased_at = "", email_hash(address), now
    row.token_hash, row.token_expires_at = "", None
    fields = set(ERASURE_FIELDS)
    if not published:
        row.name = row.affiliation = ""
        fields |= {"name", "affiliation"}
        if row.withdrawn_at is None:
            row.withdrawn_at = now
            fields.add("withdrawn_at")
    row.save(update_fields=sorted(fields))
    _forget_messages(row.pk, address)
    audit.record(None, "signature.erased", statement, signature=row.pk, email_hmac=row.email_sha256,
                 published=published, reason=reason)
    return row


def _forget_messages(signature_id: int, address: str) -> None:
    about_it = Q()
    for prefix in SIGNATURE_MESSAGE_KEYS:
        about_it |= Q(dedupe_key__startswith=f"{prefix}:{signature_id}:")
    to_address = Q(recipient__iexact=address)
    OutboundEmail.objects.unsent().filter(about_it | (to_address & Q(kind=ERASURE_EMAIL_KIND))).delete()
    # Sent (or given up on): the row stays for the delivery record, without whom or what.
    sent_kinds = [ERASURE_EMAIL_KIND, EmailOptOut.Kind.STATEMENT_PUBLISHED]
    (OutboundEmail.objects.filter(to_address & (about_it | Q(kind__in=sent_kinds)))
     .exclude(sent_at__isnull=True, failed_at__isnull=True)
     .update(recipient="", body_text="", body_html="", headers={}))


def purge_unconfirmed(now=None) -> int:
    """Erase individual signatures never confirmed whose link expired more than
    UNCONFIRMED_SIGNATURE_DAYS ago (at most PURGE_BATCH a run). Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.UNCONFIRMED_SIGNATURE_DAYS)
    stale = (Signature.objects.filter(kind=Signature.Kind.INDIVIDUAL, confirmed_at__isnull=True,
                                      erased_at__isnull=True, token_expires_at__lt=cutoff)
             .order_by("pk")[:PURGE_BATCH])
    count = 0
    for signature in stale:
        erase_signature(signature, reason="unconfirmed")
        count += 1
    return count
