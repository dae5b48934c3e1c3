"""Co-signing: one function per thing a signer or coordinator does with signatures.

Each runs in one transaction that starts by locking the statement's row, so the check that
signing is open and the insert or change agree (closing, re-freezing the text and signing all take
the same lock). One live signature per organisation and per email address is held by the
database's constraints; the checks here only turn a refusal into a clear message. Each writes one
audit event on the statement, and email goes only through `notifications` (the outbox).

Individuals sign without an account: the signature counts once the emailed link is followed and
the button on its page pressed. The token in the link is stored only as its SHA-256.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coalition import audit, db, permissions, ratelimits, time_zones, validators
from coalition.models import Organisation, User

from .. import notifications, selectors, text
from ..models import Decline, InvitedPartner, Signature, Statement
from ..tokens import new_confirmation_token, token_digest
from . import privacy

Status = Statement.Status
REASON_MAX_LENGTH = 2000


@dataclass
class Individual:
    """What a person signing as an individual typed."""

    name: str
    email: str
    affiliation: str = ""
    language: str = "en"


# What decides whether signing is open, read with the row lock in one plain statement: this runs
# on every signature, and compiling the query through the ORM cost more than running it.
_STATE = ["status", "deadline", "allows_individuals", "signed_revision_id", "current_revision_id"]


def _lock_row(pk: int) -> Statement:
    quote = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = (f"SELECT id, {', '.join(map(quote, _STATE))} FROM {quote(Statement._meta.db_table)}"
           f" WHERE id = %s{lock}")
    for row in Statement.objects.raw(sql, [pk]):  # read through the fields, as any query is
        return row
    raise Statement.DoesNotExist


def _locked(statement: Statement) -> Statement:
    """Lock the statement's row until the transaction ends and return the statement as it is now:
    the caller's copy with its state refreshed from the locked row (keeping the related rows it
    brought along), or a fresh copy if its texts changed in between."""
    row = _lock_row(statement.pk)
    if (row.signed_revision_id, row.current_revision_id) != (statement.signed_revision_id,
                                                             statement.current_revision_id):
        return Statement.objects.select_related("coalition", "signed_revision", "current_revision").get(pk=statement.pk)
    for name in _STATE:
        setattr(statement, name, getattr(row, name))
    return statement


# When signing is open -------------------------------------------------------------------------


def deadline_passed(statement: Statement, now=None) -> bool:
    return statement.deadline is not None and statement.deadline <= (now or timezone.now())


def signing_refusal(statement: Statement, now=None) -> str:
    """Why nobody may sign `statement` now, in words, or "" while signing is open."""
    if statement.status == Status.DRAFT:
        return _("This statement is not open for signature yet.")
    if statement.status != Status.OPEN:
        return _("Signing of this statement is closed.")
    if deadline_passed(statement, now):
        when = time_zones.format_moment(statement.deadline)
        return _("The signing deadline passed on %(date)s; signing is closed.") % {"date": when}
    return ""


def check_signing_open(statement: Statement) -> None:
    refusal = signing_refusal(statement)
    if refusal:
        raise ValidationError(refusal, code="closed")


def _check_text(statement: Statement, sha256: str) -> None:
    """The signer confirms the text they were shown (by its hash); if a coordinator changed it
    in between, nothing is signed."""
    if sha256 != statement.signed_revision.sha256:
        raise ValidationError(_("The text changed while you were reading it. Read the new text and sign again."),
                              code="text_changed")


# Organisations --------------------------------------------------------------------------------


@transaction.atomic
def sign_for_organisation(statement: Statement, *, by: User, organisation: Organisation, sha256: str) -> Signature:
    """Someone with signing authority signs the frozen text for an organisation (a current
    member, or a partner invited to sign). `sha256` is the hash of the text they confirmed."""
    statement = _locked(statement)
    permissions.require(permissions.can_sign_statement_for(by, statement, organisation),
                        _("You may not sign this statement for that organisation."))
    check_signing_open(statement)
    _check_text(statement, sha256)
    if statement.signatures.live().filter(organisation=organisation).exists():
        raise ValidationError(_("%(organisation)s has already signed this statement.")
                              % {"organisation": organisation.display_name}, code="already_signed")
    revision = statement.signed_revision
    try:
        with transaction.atomic():
            signature = Signature.objects.create(
                statement=statement, revision=revision, sha256=revision.sha256,
                kind=Signature.Kind.ORGANISATION, organisation=organisation, signed_by=by,
            )
    except IntegrityError as exc:  # only without the row lock (never on PostgreSQL): the constraint holds
        raise ValidationError(_("%(organisation)s has already signed this statement.")
                              % {"organisation": organisation.display_name}, code="already_signed") from exc
    Decline.objects.filter(statement=statement, organisation=organisation, retracted_at__isnull=True) \
        .update(retracted_at=signature.created_at)
    audit.record(by, "signature.signed", statement, signature=signature.pk, organisation=organisation.name,
                 organisation_id=organisation.pk, revision=revision.number, sha256=revision.sha256)
    return signature


@transaction.atomic
def withdraw_signature(signature: Signature, *, by: User) -> Signature:
    """Someone who may sign for the organisation withdraws its signature while signing is open.
    The signature leaves the public list; the row and the audit log keep it."""
    statement = _locked(signature.statement)
    signature = Signature.objects.select_related("organisation").get(pk=signature.pk)
    permissions.require(permissions.can_withdraw_signature(by, signature))
    check_signing_open(statement)
    if not signature.is_live:
        raise ValidationError(_("This signature was already withdrawn."), code="withdrawn")
    signature.withdrawn_at, signature.withdrawn_by = timezone.now(), by
    signature.save(update_fields=["withdrawn_at", "withdrawn_by"])
    audit.record(by, "signature.withdrawn", statement, signature=signature.pk,
                 organisation=signature.organisation.name, organisation_id=signature.organisation_id)
    return signature


@transaction.atomic
def decline(statement: Statement, *, by: User, organisation: Organisation, reason: str = "") -> Decline:
    """An organisation answers that it will not sign; the reason is for coordinators only.
    Signing later takes the answer back."""
    statement = _locked(statement)
    permissions.require(permissions.can_sign_statement_for(by, statement, organisation),
                        _("You may not answer for that organisation."))
    check_signing_open(statement)
    reason = text.normalise(reason)
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(_("The reason can be at most %(n)d characters long.") % {"n": REASON_MAX_LENGTH},
                              code="too_long")
    if statement.signatures.live().filter(organisation=organisation).exists():
        raise ValidationError(_("%(organisation)s has signed this statement: withdraw the signature before declining.")
                              % {"organisation": organisation.display_name}, code="signed")
    if statement.declines.filter(organisation=organisation, retracted_at__isnull=True).exists():
        raise ValidationError(_("%(organisation)s has already declined to sign.")
                              % {"organisation": organisation.display_name}, code="declined")
    answer = Decline.objects.create(statement=statement, organisation=organisation, declined_by=by, reason=reason)
    audit.record(by, "signature.declined", statement, organisation=organisation.name,
                 organisation_id=organisation.pk, reason=reason)
    return answer


@transaction.atomic
def confirm_new_text(signature: Signature, *, by: User, sha256: str) -> Signature:
    """After a coordinator changed the text while it was open, someone who may sign for the
    organisation binds its signature to the new text."""
    statement = _locked(signature.statement)
    signature = Signature.objects.select_related("organisation", "revision").get(pk=signature.pk)
    permissions.require(signature.organisation_id is not None
                        and permissions.can_sign_statement_for(by, statement, signature.organisation))
    check_signing_open(statement)
    if not signature.is_live:
        raise ValidationError(_("This signature was withdrawn."), code="withdrawn")
    if signature.revision_id == statement.signed_revision_id:
        raise ValidationError(_("This signature is already on the current text."), code="current")
    _check_text(statement, sha256)
    previous = signature.revision
    _rebind(signature, statement, by=by)
    audit.record(by, "signature.text_confirmed", statement, signature=signature.pk,
                 organisation=signature.organisation.name, organisation_id=signature.organisation_id,
                 previous_revision=previous.number, revision=statement.signed_revision.number,
                 sha256=signature.sha256)
    return signature


def _rebind(signature: Signature, statement: Statement, *, by: User | None) -> None:
    signature.revision, signature.sha256 = statement.signed_revision, statement.signed_revision.sha256
    signature.rebound_at, signature.rebound_by = timezone.now(), by
    signature.save(update_fields=["revision", "sha256", "rebound_at", "rebound_by"])


def ask_to_confirm_new_text(statement: Statement) -> None:
    """Called in the transaction that re-froze the text: every live signature on an earlier text
    (organisations, and confirmed individuals, who get a new link) is asked to confirm the new
    one, by a fan-out written after commit (`notifications.write_signed_text_changed`).
    Unconfirmed individuals' links already confirm the current text."""
    notifications.signed_text_changed(statement)


# Individuals ----------------------------------------------------------------------------------


@transaction.atomic
def sign_as_individual(statement: Statement, *, person: Individual, ip: str) -> str | None:
    """Anyone signs a statement open to individuals; an email with a confirmation link follows.

    Answers the same whether or not the address has signed before, so nobody can find out who
    signed: for an address that has, nothing is created, and its owner is told (a confirmed
    signature) or sent a fresh link (one not yet confirmed). Raises `ratelimits.RateLimited` past
    the limits per IP and per address. Returns the token of the link just emailed, if any (for
    the demo and tests; pages never show it)."""
    check_individual_name(person)
    ratelimits.check_individual_signing(ip=ip, email=person.email)
    statement = _locked(statement)
    if not statement.allows_individuals:
        raise ValidationError(_("Only organisations sign this statement."), code="organisations_only")
    check_signing_open(statement)
    revision = statement.signed_revision
    signature = Signature(
        statement=statement, revision=revision, sha256=revision.sha256, kind=Signature.Kind.INDIVIDUAL,
        name=person.name, affiliation=person.affiliation, email=person.email, language=person.language,
    )
    signature.fill_email_canonical()  # insert_new() calls no save()
    token = new_confirmation_token(signature)
    # The constraint on the address answers "signed before?": no query first and no savepoint,
    # since this runs on every signature. (An unconfirmed signature is on no public page, so the
    # post_save signal that renews cached pages has nothing to do.)
    if not db.insert_new(signature):
        existing = (statement.signatures.live()
                    .filter(kind=Signature.Kind.INDIVIDUAL, email_canonical=signature.email_canonical).first())
        if existing is None:
            raise IntegrityError("The individual signature could not be written.")
        existing.statement = statement
        return _answer_again(existing)
    notifications.individual_signature_confirmation(signature, token)
    # The audit log, which never changes, keeps a keyed hash of the address and no name: both can be erased.
    audit.record(None, "signature.individual_signed", statement, signature=signature.pk,
                 email_hmac=privacy.email_hash(signature.email),
                 revision=revision.number, sha256=revision.sha256)
    return token


def check_individual_name(person: Individual) -> None:
    """A name and affiliation anyone may type, printed in the PDF and on pages: no web address,
    no bidi or control character (coalition.validators), and not an organisation's name or a
    look-alike of one, so nobody signs as an individual named "Truth Hounds"."""
    validators.validate_name(person.name)
    validators.validate_name(person.affiliation)
    every_name = [name for organisation in Organisation.objects.only("name", "translations")
                  for name in organisation.all_names()]  # in every language: «Центр громадянських свобод» too
    taken = validators.confusable_names(person.name, every_name)
    if taken:
        raise ValidationError(
            _("“%(name)s” is the name of an organisation, which signs for itself. Sign with your own "
              "name; you can give the organisation as your affiliation.") % {"name": taken[0]},
            code="organisation_name")


def _answer_again(signature: Signature) -> str | None:
    if signature.confirmed_at is not None:
        notifications.individual_already_signed(signature, attempt=uuid.uuid4().hex)
        return None
    token = new_confirmation_token(signature)
    signature.save(update_fields=["token_hash", "token_expires_at"])
    notifications.individual_signature_confirmation(signature, token)
    return token


def find_by_token(statement: Statement, token: str) -> Signature | None:
    return (Signature.objects.filter(statement=statement, kind=Signature.Kind.INDIVIDUAL,
                                     token_hash=token_digest(token), withdrawn_at__isnull=True)
            .select_related("revision").first())


def confirmation_refusal(statement: Statement, signature: Signature | None) -> ValidationError | None:
    """Why this confirmation link cannot confirm now, or None. Asked by the link's page (GET,
    which never confirms) and again by `confirm_individual`."""
    if signature is None:
        return ValidationError(_("This confirmation link is not valid. Check that you copied all of it."),
                               code="unknown")
    if signature.confirmed_at is not None and signature.revision_id == statement.signed_revision_id:
        return ValidationError(_("Your signature is already confirmed: this link has been used."), code="used")
    if signature.token_expires_at <= timezone.now():
        return ValidationError(_("This confirmation link has expired. Sign again to get a new one."), code="expired")
    refusal = signing_refusal(statement)
    if refusal:
        return ValidationError(refusal, code="closed")
    return None


@transaction.atomic
def confirm_individual(statement: Statement, *, token: str, sha256: str) -> Signature:
    """The person pressed the button on the emailed link's page: their signature counts, bound to
    the text the page showed (the current one). A confirmed signature asked to confirm a changed
    text is bound to the new one."""
    statement = _locked(statement)
    signature = find_by_token(statement, token)
    refusal = confirmation_refusal(statement, signature)
    if refusal is not None:
        raise refusal
    _check_text(statement, sha256)
    previous = signature.revision
    if signature.confirmed_at is None:
        signature.revision, signature.sha256 = statement.signed_revision, statement.signed_revision.sha256
        signature.confirmed_at = timezone.now()
        signature.save(update_fields=["revision", "sha256", "confirmed_at"])
        action = "signature.confirmed"
    else:
        _rebind(signature, statement, by=None)
        action = "signature.text_confirmed"
    audit.record(None, action, statement, signature=signature.pk, email_hmac=privacy.email_hash(signature.email),
                 previous_revision=previous.number, revision=statement.signed_revision.number,
                 sha256=signature.sha256)
    return signature


@transaction.atomic
def hide_signature(signature: Signature, *, by: User, reason: str) -> Signature:
    """A coordinator hides an abusive individual signature from every list, giving the reason;
    the row stays, marked hidden, on the record."""
    statement = _locked(signature.statement)
    signature = Signature.objects.select_related("statement__coalition").get(pk=signature.pk)
    permissions.require(permissions.can_hide_signature(by, signature))
    reason = text.normalise(reason)
    if not reason:
        raise ValidationError(_("Give the reason for hiding the signature."), code="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(_("The reason can be at most %(n)d characters long.") % {"n": REASON_MAX_LENGTH},
                              code="too_long")
    if signature.hidden_at is not None:
        raise ValidationError(_("This signature is already hidden."), code="hidden")
    signature.hidden_at, signature.hidden_by, signature.hidden_reason = timezone.now(), by, reason
    signature.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    audit.record(by, "signature.hidden", statement, signature=signature.pk, reason=reason)
    return signature


# Reminders --------------------------------------------------------------------------------------

NOTE_MAX_LENGTH = 1000


@dataclass
class Reminders:
    """What a coordinator's reminder did."""

    reminded: list[Organisation]  # at least one message written for each
    messages: int
    recently: list[tuple[Organisation, datetime]]  # skipped, reminded inside the period: when next
    unreachable: list[Organisation]  # those who may sign for it turned reminders off
    nobody: list[Organisation] = field(default_factory=list)  # nobody may sign for it: not asked

    @property
    def next_possible(self) -> datetime | None:
        return min(at for _organisation, at in self.recently) if self.recently else None


@transaction.atomic
def remind(statement: Statement, *, by: User, organisation: Organisation | None = None, note: str = "") -> Reminders:
    """A coordinator reminds the organisations that have neither signed nor declined (or only
    `organisation`): everyone who may sign for each gets an email with the link to sign and the
    coordinator's `note`. Reminding all leaves out, and counts in `nobody`, the organisations
    nobody may sign for (they need a signer invited, not a reminder). An organisation a
    coordinator reminded less than SIGNATURE_MANUAL_REMINDER_HOURS ago is skipped. Writes one
    audit event when anyone was reminded."""
    statement = _locked(statement)
    permissions.require(permissions.can_remind(by, statement))
    if signing_refusal(statement):
        raise ValidationError(_("Reminders can be sent only while the statement is open for signature."),
                              code="closed")
    note = text.normalise(note)
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError(_("The note can be at most %(n)d characters long.") % {"n": NOTE_MAX_LENGTH},
                              code="too_long")
    roster = selectors.roster(statement)
    rows = _to_remind(roster, organisation)
    nobody = [row.organisation for row in rows if not row.signers] if organisation is None else []
    rows = [row for row in rows if row.signers] if organisation is None else rows
    if organisation is None and not rows:
        raise ValidationError(_("Nobody was reminded: nobody may sign for any of the organisations without an "
                                "answer. Invite a signer for each of them."), code="nobody")
    now = timezone.now()
    found = selectors.reminders(statement)
    recently, due = [], []
    for row in rows:
        last = found.get(row.organisation.pk)
        next_possible = last.next_possible if last else None
        if next_possible:
            recently.append((row.organisation, next_possible))
        else:
            due.append(row)
    written = notifications.coordinator_reminders(statement, due, by=by, note=note, now=now)
    reminded = [row.organisation for row in due if written.get(row.organisation.pk)]
    outcome = Reminders(reminded, sum(written.values()), recently,
                        [row.organisation for row in due if not written.get(row.organisation.pk)], nobody)
    if not reminded and not recently:
        if organisation is not None:
            raise ValidationError(_("Nobody who may sign for %(organisation)s can be reminded: there is nobody yet, "
                                    "or they turned reminders off.") % {"organisation": organisation.display_name},
                                  code="nobody")
        raise ValidationError(_("Nobody left to remind: nobody who may sign for the organisations without an "
                                "answer can be reminded (there is nobody yet, or they turned reminders off)."),
                              code="nobody")
    if reminded:
        audit.record(by, "statement.reminded", statement, organisations=[o.name for o in reminded],
                     organisation_ids=[o.pk for o in reminded], count=len(reminded), messages=outcome.messages,
                     note=note)
    return outcome


def _to_remind(roster, organisation: Organisation | None) -> list:
    rows = roster.no_answer
    if organisation is None:
        if not rows:
            raise ValidationError(_("Every organisation has answered: there is nobody left to remind."),
                                  code="nobody")
        return rows
    rows = [row for row in rows if row.organisation.pk == organisation.pk]
    if not rows:
        asked = any(row.organisation.pk == organisation.pk for row in roster.rows)
        message = (_("%(organisation)s has already answered: there is nothing to remind it of.") if asked
                   else _("%(organisation)s is not asked to sign this statement."))
        raise ValidationError(message % {"organisation": organisation.display_name}, code="answered")
    return rows


# Order of signatories ---------------------------------------------------------------------------


@transaction.atomic
def set_signatory_order(statement: Statement, *, by: User, organisation_ids: list[int]) -> Statement:
    """A coordinator sets the order in which signatory organisations are listed on the statement's
    page and in its PDF (first to last); an empty list means alphabetical. Organisations that sign
    later are listed after the ordered ones, alphabetically. Set before publishing: an issue keeps
    the order it was published with."""
    statement = _locked(statement)
    permissions.require(permissions.can_order_signatories(by, statement))
    if statement.status not in (Status.OPEN, Status.CLOSED):
        raise ValidationError(_("The order of signatories can be set only while the statement is open or "
                                "closed for signing."), code="wrong_state")
    if len(set(organisation_ids)) != len(organisation_ids):
        raise ValidationError(_("Each organisation can have only one place."), code="duplicate")
    signed = set(statement.signatures.live().filter(kind=Signature.Kind.ORGANISATION)
                 .values_list("organisation_id", flat=True))
    if not set(organisation_ids) <= signed:
        raise ValidationError(_("Only organisations that have signed can be ordered."), code="not_signed")
    statement.signatory_order = list(organisation_ids)
    statement.save(update_fields=["signatory_order"])
    names = dict(Organisation.objects.filter(pk__in=organisation_ids).values_list("pk", "name"))
    audit.record(by, "statement.signatories_ordered", statement,
                 order=[names[pk] for pk in organisation_ids])
    return statement


# Partners -------------------------------------------------------------------------------------


@transaction.atomic
def invite_partner(statement: Statement, *, by: User, organisation: Organisation) -> InvitedPartner:
    """A coordinator invites an organisation from outside the coalition to sign this statement
    (a joint issuer); its staff with signing authority may then sign it."""
    statement = _locked(statement)
    permissions.require(permissions.can_invite_partner(by, statement))
    if statement.status not in (Status.DRAFT, Status.OPEN):
        raise ValidationError(_("Partners can be invited only before signing closes."), code="wrong_state")
    if permissions.is_current_member(organisation, statement.coalition):
        raise ValidationError(_("%(organisation)s is a member of the coalition and may sign already.")
                              % {"organisation": organisation.display_name}, code="member")
    partner, created = InvitedPartner.objects.get_or_create(
        statement=statement, organisation=organisation, defaults={"invited_by": by})
    if not created:
        raise ValidationError(_("%(organisation)s is already invited to sign.")
                              % {"organisation": organisation.display_name}, code="invited")
    if statement.status == Status.OPEN:  # its signers learn of it as members did at the opening
        notifications.statement_opened(statement)
    audit.record(by, "statement.partner_invited", statement, organisation=organisation.name,
                 organisation_id=organisation.pk)
    return partner
