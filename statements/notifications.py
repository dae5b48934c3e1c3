"""Who is told what. Each function writes outbox rows in the caller's transaction; Celery
delivers them after commit."""

from django.conf import settings
from django.urls import reverse

from coalition.models import EmailOptOut

from . import outbox


def invitation_sent(invitation) -> None:
    outbox.enqueue(
        kind="invitation",
        dedupe_key=f"invitation:{invitation.pk}",
        recipient=invitation.email,
        template="invitation",
        context={
            "invitation": invitation,
            "accept_url": settings.SITE_URL + invitation.get_absolute_url(),
        },
        language=invitation.language,
        coalition=invitation.coalition,
    )


# Signatures ---------------------------------------------------------------------------------


def _url(path: str) -> str:
    return settings.SITE_URL + path


def individual_signature_confirmation(signature, token: str) -> None:
    """The link an individual follows (and whose page's button they press) to make their
    signature count. A new link is a new message (the dedupe key names the token)."""
    from .cosigning import token_digest

    statement = signature.statement
    outbox.enqueue(
        kind="signature_confirmation",
        dedupe_key=f"signature-confirmation:{signature.pk}:{token_digest(token)[:24]}",
        recipient=signature.email,
        template="signature_confirmation",
        context={"signature": signature, "statement": statement, "revision": statement.signed_revision,
                 "confirm_url": _url(reverse("signature_confirm", args=[statement.slug, token]))},
        language=signature.language,
        coalition=statement.coalition,
    )


def individual_already_signed(signature, *, attempt: str) -> None:
    """Someone signed again with an address that has signed: the page answered as for a first
    signature, and the owner of the address learns of it here. `attempt` keeps each a message
    of its own (the per-email rate limit keeps their number down)."""
    statement = signature.statement
    outbox.enqueue(
        kind="signature_already_signed",
        dedupe_key=f"signature-already-signed:{signature.pk}:{attempt}",
        recipient=signature.email,
        template="signature_already_signed",
        context={"signature": signature, "statement": statement,
                 "statement_url": _url(statement.get_absolute_url())},
        language=signature.language,
        coalition=statement.coalition,
    )


def signed_text_changed(signature, *, token: str | None = None) -> None:
    """A coordinator changed the text while it was open: the person who signed (for an
    organisation, or as an individual, with a new confirmation link) is asked to confirm the new
    text."""
    statement = signature.statement
    if signature.organisation_id:
        recipient, language = signature.signed_by.email, signature.signed_by.language
        confirm_url = _url(reverse("statement_sign", args=[statement.slug]))
    else:
        recipient, language = signature.email, signature.language
        confirm_url = _url(reverse("signature_confirm", args=[statement.slug, token]))
    outbox.enqueue(
        kind=EmailOptOut.Kind.TEXT_CHANGED,
        dedupe_key=f"signed-text-changed:{signature.pk}:{statement.signed_revision_id}",
        recipient=recipient,
        template="signed_text_changed",
        context={"signature": signature, "statement": statement, "revision": statement.signed_revision,
                 "confirm_url": confirm_url},
        language=language,
        coalition=statement.coalition,
    )


# Publishing ---------------------------------------------------------------------------------


def publication_released(publication) -> None:
    """An issue went public: everyone who signed it (the person who signed for each organisation,
    and confirmed individuals) gets the link to the PDF, once per issue."""
    from .models import Signature

    statement = publication.statement
    pdf_url = _url(reverse("statement_pdf", args=[statement.slug])) + f"?issue={publication.number}"
    recipients: dict[str, str] = {}
    for signature in statement.signatures.counted().select_related("signed_by"):
        if signature.kind == Signature.Kind.ORGANISATION:
            recipients.setdefault(signature.signed_by.email.lower(), signature.signed_by.language or "en")
        else:
            recipients.setdefault(signature.email.lower(), signature.language)
    for email, language in recipients.items():
        outbox.enqueue(
            kind=EmailOptOut.Kind.STATEMENT_PUBLISHED,
            dedupe_key=f"publication-released:{publication.pk}:{email}",
            recipient=email,
            template="publication_released",
            context={"publication": publication, "statement": statement, "revision": publication.revision,
                     "pdf_url": pdf_url, "statement_url": _url(statement.get_absolute_url())},
            language=language,
            coalition=statement.coalition,
        )
