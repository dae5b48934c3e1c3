"""Who is told what. A message to one person is written to the outbox in the caller's
transaction; a message to many (a statement opened, the text changed, the deadline passed, an
issue released) records a fan-out there, and its `write_*` function writes the rows in bulk in a
task after commit (`statements.fanouts`). Celery delivers the rows after commit."""

import hashlib
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from coalition import outbox, validators
from coalition.models import CoalitionRole, EmailOptOut, OutboundEmail, User

from . import fanouts, selectors
from .models import FanOut, Reminder, Signature, Statement
from .tokens import new_confirmation_token, token_digest


# Signatures ---------------------------------------------------------------------------------


def _url(path: str) -> str:
    return settings.SITE_URL + path


def individual_signature_confirmation(signature, token: str) -> None:
    """The link an individual follows (and whose page's button they press) to make their
    signature count. A new link is a new message (the dedupe key names the token)."""
    statement = signature.statement
    outbox.enqueue(
        kind="signature_confirmation",
        dedupe_key=f"signature-confirmation:{signature.pk}:{token_digest(token)[:24]}",
        recipient=signature.email,
        template="signature_confirmation",
        # The address is not confirmed yet: of what the requester typed, only a plain name (no web
        # address, no control characters, cut short) goes into the message.
        context={"signature": signature, "name": validators.plain_name(signature.name),
                 "statement": statement, "revision": statement.signed_revision,
                 "confirm_url": _url(reverse("signature_confirm", args=[statement.slug, token])),
                 "erase_url": _url(reverse("privacy_erase"))},
        language=signature.language,
        coalition=statement.coalition,
        fresh_key=True,  # it names a token just made
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
        context={"signature": signature, "name": validators.plain_name(signature.name), "statement": statement,
                 "statement_url": _url(statement.get_absolute_url())},
        language=signature.language,
        coalition=statement.coalition,
    )


def signed_text_changed(statement) -> None:
    """A coordinator changed the text while it was open: the person who signed (for an
    organisation, or as an individual, with a new confirmation link) is asked to confirm the new
    text. Written by a task after commit (`fanouts`), once per text to be signed."""
    fanouts.request(FanOut.Event.TEXT_CHANGED, statement,
                    key=f"signed-text-changed:{statement.pk}:{statement.signed_revision_id}")


def write_signed_text_changed(fan_out) -> int:
    """The task's part of `signed_text_changed`: the signatures still on an earlier text that
    were not asked yet about the text now to be signed (an individual's new link is made only
    then, so a second run leaves the link sent working); returns how many rows it wrote."""
    statement = fan_out.statement

    def key(signature):
        return f"signed-text-changed:{signature.pk}:{statement.signed_revision_id}"

    signatures = list(selectors.to_confirm_new_text(statement))
    keys = [key(signature) for signature in signatures]
    asked = set()
    for start in range(0, len(keys), outbox.WRITE_BATCH_SIZE):
        asked.update(OutboundEmail.objects.filter(dedupe_key__in=keys[start:start + outbox.WRITE_BATCH_SIZE])
                     .values_list("dedupe_key", flat=True))
    recipients, new_links = [], []
    for signature in signatures:
        if key(signature) in asked:
            continue
        if signature.organisation_id:
            # The message names the organisation: one rendering per organisation and language.
            recipients.append(outbox.Recipient(
                signature.signed_by.email, key(signature), signature.signed_by.language,
                {"signature": signature, "confirm_url": _url(reverse("statement_sign", args=[statement.slug]))},
                ("organisation", signature.organisation_id), time_zone=signature.signed_by.time_zone))
        else:
            # Every individual's message reads the same but for the link, put in after rendering.
            token = new_confirmation_token(signature)
            new_links.append(signature)
            recipients.append(outbox.Recipient(
                signature.email, key(signature), signature.language, {"signature": signature}, "individual",
                links={"confirm_url": _url(reverse("signature_confirm", args=[statement.slug, token]))}))
    Signature.objects.bulk_update(new_links, ["token_hash", "token_expires_at"], batch_size=1000)
    return len(outbox.enqueue_many(
        recipients, kind=EmailOptOut.Kind.TEXT_CHANGED, template="signed_text_changed",
        context={"statement": statement, "revision": statement.signed_revision},
        coalition=statement.coalition))


# Signing opens, reminders, the deadline ----------------------------------------------------


def _coordinators(coalition):
    return User.objects.filter(is_active=True, coalition_roles__coalition=coalition,
                               coalition_roles__role=CoalitionRole.Role.COORDINATOR).distinct()


def _told_of_signing(statement, rows) -> list[tuple]:
    """Who is told that signing opens, reopens or has a new deadline: everyone active who may sign
    for an organisation of the roster `rows`, and the coalition's coordinators; each once, as
    (user, names, coordinator): `names` are the organisations they may sign for that have neither
    signed the text to be signed nor declined, in the user's language; `coordinator` says the
    user coordinates the coalition."""
    told: dict[int, tuple] = {}
    for row in rows:
        for user in row.signers:
            if user.is_active:
                names = told.setdefault(user.pk, (user, [], False))[1]
                if row.status in ("no_answer", "earlier"):
                    names.append(row.organisation.name_in(user.language or "en"))
    for user in _coordinators(statement.coalition):
        user, names, _coordinator = told.get(user.pk, (user, [], True))
        told[user.pk] = (user, names, True)
    return list(told.values())


def _signing_recipients(statement, key: str):
    """The fan-out's recipients of a message about signing (opened, reopened, a new deadline),
    grouped for rendering by language, zone, organisations and role, so the messages cost no
    query per recipient."""
    for user, names, coordinator in _told_of_signing(statement, selectors.roster(statement).rows):
        yield outbox.Recipient(user.email, f"{key}:{user.email.lower()}", user.language or "en",
                               {"organisations": names, "coordinator": coordinator},
                               (coordinator, tuple(names)), time_zone=user.time_zone)


def _signing_context(statement, **context) -> dict:
    return {"statement": statement, "revision": statement.signed_revision,
            "sign_url": _url(reverse("statement_sign", args=[statement.slug])),
            "roster_url": _url(reverse("statement_roster", args=[statement.slug])), **context}


def _tell_signing_changed(statement, *, template: str, key: str, **context) -> int:
    """Tell everyone told at opening about a change to signing (reopened, a new deadline), in
    their language, written in the caller's transaction: the recipients are the coalition's
    staff who may sign and its coordinators, a number that does not grow with the signatures.
    `key` names the change, so a repeat of the same change tells nobody twice."""
    return len(outbox.enqueue_many(
        _signing_recipients(statement, key), kind=EmailOptOut.Kind.STATEMENT_OPENED, template=template,
        context=_signing_context(statement, **context), coalition=statement.coalition))


def statement_reopened(statement, *, closed_at) -> int:
    """A coordinator reopened a closed statement: those told when it opened are told again, with
    the deadline. Once per closing (`closed_at`: closed and reopened twice, it tells twice)."""
    return _tell_signing_changed(statement, template="statement_reopened",
                                 key=f"statement-reopened:{statement.pk}:{closed_at:%Y%m%d%H%M%S%f}")


def deadline_moved(statement, *, previous) -> int:
    """A coordinator moved the deadline of an open statement: those told when it opened get the
    new deadline (and the old one). Once per new deadline."""
    return _tell_signing_changed(statement, template="deadline_moved", previous_deadline=previous,
                                 key=f"deadline-moved:{statement.pk}:{statement.deadline:%Y%m%d%H%M%S}")


def statement_opened(statement) -> None:
    """A coordinator opened a statement (or invited a partner to an open one): everyone who may
    sign for a member organisation or an invited partner (told which organisations), and the
    coalition's coordinators, once each. Written by a task after commit (`fanouts`)."""
    fanouts.request(FanOut.Event.STATEMENT_OPENED, statement)


def write_statement_opened(fan_out) -> int:
    """The task's part of `statement_opened`: the outbox rows, in bulk; returns how many."""
    statement = fan_out.statement
    return len(outbox.enqueue_many(
        _signing_recipients(statement, f"statement-opened:{statement.pk}"), kind=EmailOptOut.Kind.STATEMENT_OPENED,
        template="statement_opened", context=_signing_context(statement), coalition=statement.coalition))


def signature_reminders(statement, now=None) -> int:
    """Remind those who may sign for each organisation that has neither signed nor declined and
    was not reminded automatically in the last SIGNATURE_REMINDER_DAYS: once before a deadline
    (someone given signing authority later is not reminded again), and once more before a
    deadline moved later than that. Returns how many messages it wrote."""
    now = now or timezone.now()
    prefix = f"{AUTOMATIC_REMINDER_KEY}:{statement.pk}:"
    deadline = f"{statement.deadline:%Y%m%d%H%M%S}"
    reminded = set(statement.reminders.filter(
        kind=Reminder.Kind.AUTOMATIC, queued_at__gt=now - timedelta(days=settings.SIGNATURE_REMINDER_DAYS),
    ).values_list("organisation_id", flat=True))
    due = [(row, f"{prefix}{row.organisation.pk}:{deadline}") for row in selectors.roster(statement).no_answer
           if row.organisation.pk not in reminded]
    written = _remind_signers(statement, due)
    _record_reminders(statement, written, kind=Reminder.Kind.AUTOMATIC)
    return sum(written.values())


def _record_reminders(statement, written: dict[int, int], *, kind: str, by=None) -> None:
    """A `Reminder` row for each organisation that at least one email of this reminder was
    written to: the history that decides when it may be reminded again."""
    Reminder.objects.bulk_create([Reminder(statement=statement, organisation_id=organisation_id, kind=kind, by=by)
                                  for organisation_id, count in written.items() if count])


def _remind_signers(statement, due: list[tuple], **context) -> dict[int, int]:
    """The reminder to everyone who may sign for the organisation of each roster row of `due`
    (pairs of a row and its dedupe key, to which the address is added), each in their language,
    written in bulk; returns how many messages were written for each organisation (by primary
    key), none to an inactive account or an address that turned reminders off."""
    recipients, organisation_of = [], {}
    for row, key in due:
        for user in row.signers:
            if user.is_active:
                dedupe_key = f"{key}:{user.email.lower()}"
                organisation_of[dedupe_key] = row.organisation.pk
                recipients.append(outbox.Recipient(user.email, dedupe_key, user.language or "en",
                                                   {"organisation": row.organisation}, row.organisation.pk,
                                                   time_zone=user.time_zone))
    written = outbox.enqueue_many(
        recipients, kind=EmailOptOut.Kind.SIGNATURE_REMINDER, template="signature_reminder",
        context={"statement": statement, "revision": statement.signed_revision,
                 "sign_url": _url(reverse("statement_sign", args=[statement.slug])), **context},
        coalition=statement.coalition)
    counts: dict[int, int] = {}
    for dedupe_key in written:
        counts[organisation_of[dedupe_key]] = counts.get(organisation_of[dedupe_key], 0) + 1
    return counts


# The dedupe keys of reminders: the automatic one before the deadline names the statement, the
# organisation, the deadline and the address; a coordinator's also names the SIGNATURE_MANUAL_REMINDER_HOURS
# period it was sent in, so a repeat inside that period writes nothing. Only the outbox reads
# them: when an organisation was reminded is a `Reminder` row (migration 0018 read the keys once).
AUTOMATIC_REMINDER_KEY = "signature-reminder"
COORDINATOR_REMINDER_KEY = "signature-reminder-by-coordinator"


def reminder_period(now) -> int:
    """The number of the SIGNATURE_MANUAL_REMINDER_HOURS-long period `now` falls in."""
    return int(now.timestamp() // (settings.SIGNATURE_MANUAL_REMINDER_HOURS * 3600))


def coordinator_reminders(statement, rows, *, by, note: str, now) -> dict[int, int]:
    """A coordinator reminded the organisations of `rows` (roster rows without an answer):
    everyone who may sign for each gets the reminder in their language, with the coordinator's
    note. Returns how many messages were written for each organisation (by primary key); none
    for one whose signers all turned reminders off."""
    prefix = f"{COORDINATOR_REMINDER_KEY}:{statement.pk}:"
    period = reminder_period(now)
    written = _remind_signers(statement, [(row, f"{prefix}{row.organisation.pk}:{period}") for row in rows],
                              note=note, reminded_by=by)
    _record_reminders(statement, written, kind=Reminder.Kind.COORDINATOR, by=by)
    return written


def remind_before_deadlines(now=None) -> int:
    """Periodic: for every open statement whose deadline (stored on the statement) is at most
    SIGNATURE_REMINDER_DAYS away, remind the organisations that have not answered. A statement
    opened less than that before its deadline gets no reminder (the opening message gave the
    date). Idempotent within SIGNATURE_REMINDER_DAYS; returns how many messages it wrote."""
    now = now or timezone.now()
    lead = timedelta(days=settings.SIGNATURE_REMINDER_DAYS)
    due = Statement.objects.filter(status=Statement.Status.OPEN, deadline__gt=now, deadline__lte=now + lead)
    written = 0
    for statement_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            statement = (Statement.objects.select_for_update(of=("self",))
                         .select_related("coalition", "signed_revision")
                         .filter(pk=statement_id, status=Statement.Status.OPEN).first())
            if statement is None or (statement.opened_at and statement.opened_at > statement.deadline - lead):
                continue
            written += signature_reminders(statement, now)
    return written


def deadline_passed(statement) -> None:
    """Signing closed at the deadline: the coalition's coordinators get the counts, once per
    statement. Written by a task after commit (`fanouts`)."""
    # Once per deadline: a statement reopened and closed again at its new deadline tells again.
    fanouts.request(FanOut.Event.DEADLINE_PASSED, statement,
                    key=f"deadline-passed:{statement.pk}:{statement.deadline:%Y%m%d%H%M%S}")


def write_deadline_passed(fan_out) -> int:
    """The task's part of `deadline_passed`; returns how many rows it wrote."""
    statement = fan_out.statement
    rows = selectors.roster(statement)
    counts = {"signed": len(rows.signed), "declined": len(rows.declined), "no_answer": len(rows.no_answer),
              "individuals": statement.signatures.counted().filter(
                  kind="individual", revision_id=statement.signed_revision_id).count()}
    recipients = (outbox.Recipient(user.email, f"{fan_out.key}:{user.email.lower()}",
                                   user.language or "en", time_zone=user.time_zone)
                  for user in _coordinators(statement.coalition))
    return len(outbox.enqueue_many(
        recipients, kind=EmailOptOut.Kind.DEADLINE_PASSED, template="deadline_passed",
        context={"statement": statement, "revision": statement.signed_revision,
                 "roster_url": _url(reverse("statement_roster", args=[statement.slug])), **counts},
        coalition=statement.coalition))


# Publishing ---------------------------------------------------------------------------------


def publication_released(publication) -> None:
    """An issue went public: everyone who signed it (the person who signed for each organisation,
    and confirmed individuals) and every confirmed subscriber gets the link to the PDF, once per
    issue and address. Written by a task after commit (`fanouts`), delivered in batches."""
    fanouts.request(FanOut.Event.PUBLICATION_RELEASED, publication.statement, publication=publication,
                    key=f"publication-released:{publication.pk}")


def write_publication_released(fan_out) -> int:
    """The task's part of `publication_released`; returns how many rows it wrote."""
    publication, statement = fan_out.publication, fan_out.statement
    recipients: dict[str, tuple[str, bool]] = {}
    # Those named in the issue: not a signature left on an earlier text (see selectors.Signatories).
    signatures = (statement.signatures.counted().filter(revision_id=publication.revision_id)
                  .values_list("kind", "signed_by__email", "signed_by__language", "email", "language"))
    for kind, signer_email, signer_language, email, language in signatures.iterator():
        if kind == Signature.Kind.ORGANISATION:
            recipients.setdefault(signer_email.lower(), (signer_language or "en", True))
        elif email:  # an erased signature keeps its place in the list, not its address
            recipients.setdefault(email.lower(), (language, True))
    for email, language in selectors.confirmed_subscribers().values_list("email", "language").iterator():
        recipients.setdefault(email.lower(), (language, False))
    pdf_url = _url(reverse("statement_pdf", args=[statement.slug])) + f"?issue={publication.number}"
    return len(outbox.enqueue_many(
        (outbox.Recipient(email, f"publication-released:{publication.pk}:{email}", language,
                          {"signed": signed}, signed)
         for email, (language, signed) in recipients.items()),
        kind=EmailOptOut.Kind.STATEMENT_PUBLISHED, template="publication_released",
        context={"publication": publication, "statement": statement, "revision": publication.revision,
                 "pdf_url": pdf_url, "statement_url": _url(statement.get_absolute_url())},
        coalition=statement.coalition))


# The site's operators -------------------------------------------------------------------------


def site_operators() -> list[tuple[str, str]]:
    """Who runs the site, as (address, language): every active superuser with an address, and
    settings.ADMINS; each address once."""
    operators: dict[str, tuple[str, str]] = {}
    for email, language in (User.objects.filter(is_superuser=True, is_active=True).exclude(email="")
                            .order_by("pk").values_list("email", "language")):
        operators.setdefault(email.lower(), (email, language or "en"))
    for admin in settings.ADMINS:
        email = admin[1] if isinstance(admin, (list, tuple)) else parseaddr(admin)[1]
        if email:
            operators.setdefault(email.lower(), (email, settings.LANGUAGE_CODE))
    return list(operators.values())


def audit_check_failed(report) -> int:
    """The periodic check found the audit log broken or missing events (`report`, a
    `coalition.audit.ChainReport`): every site operator is told what, once per failure (the
    dedupe key names it, so the same failure found every hour is mailed once, and a new one
    again). Returns how many messages were written."""
    written = 0
    for email, language in site_operators():
        written += outbox.enqueue(
            kind="audit_check_failed",
            dedupe_key=f"audit-check-failed:{report.key}:{email.lower()}",
            recipient=email,
            template="audit_check_failed",
            context={"report": report, "transparency_url": _url(reverse("transparency"))},
            language=language,
        ) is not None
    return written


# Individuals' personal data ---------------------------------------------------------------------


def erasure_link(email: str, *, token: str, language: str, count: int) -> None:
    """The link that erases the signatures of `email` (statements.services.privacy). A new link is a new
    message (the dedupe key names the token)."""
    outbox.enqueue(
        kind="erasure_link",
        dedupe_key=f"erasure-link:{hashlib.sha256(token.encode()).hexdigest()[:32]}",
        recipient=email,
        template="erasure_link",
        context={"erase_url": _url(reverse("privacy_erase_confirm", args=[token])), "count": count,
                 "hours": settings.ERASURE_LINK_HOURS},
        language=language,
    )


# Subscriptions --------------------------------------------------------------------------------


def subscription_confirmation(subscriber, token: str) -> None:
    """The link a new subscriber follows (and whose page's button they press) to start getting
    new publications. A new link is a new message (the dedupe key names the token)."""
    outbox.enqueue(
        kind="subscription_confirmation",
        dedupe_key=f"subscription-confirmation:{subscriber.pk}:{hashlib.sha256(token.encode()).hexdigest()[:24]}",
        recipient=subscriber.email,
        template="subscription_confirmation",
        context={"confirm_url": _url(reverse("subscription_confirm", args=[token])),
                 "hours": settings.SUBSCRIPTION_CONFIRMATION_HOURS},
        language=subscriber.language,
    )


# What each fan-out writes, by its event: `fanouts.run` calls it in the fan-out's transaction.
FAN_OUT_WRITERS = {
    FanOut.Event.STATEMENT_OPENED: write_statement_opened,
    FanOut.Event.PUBLICATION_RELEASED: write_publication_released,
    FanOut.Event.DEADLINE_PASSED: write_deadline_passed,
    FanOut.Event.TEXT_CHANGED: write_signed_text_changed,
}
