"""Selectors for the dashboard: what each person has to do next. Each answers in a fixed number
of queries, however many statements, organisations and signatures there are.

- `my_organisations_statements`: for member staff, each open statement with the state of each of
  their organisations (signed, signed an earlier text, declined, not answered) and what to do.
- `coordinated_statements`: for coordinators, each open or closed statement of their coalitions
  with its counts and the next step (remind, review and close, publish).
- `drafts_for_me`: the drafts of the coalitions a person works in, with what asks for them.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coalition import permissions
from coalition.models import Membership, OrganisationRole

from .models import Decline, InvitedPartner, Signature, Statement
from .selectors import member_coalitions, name_key

Status = Statement.Status
URGENT = timedelta(hours=48)


def time_left(deadline: datetime | None, now: datetime) -> str:
    """"3 days", "5 hours", "less than an hour": how long until `deadline` (a future one)."""
    if deadline is None or deadline <= now:
        return ""
    left = deadline - now
    if left >= timedelta(days=2):
        days = left.days
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    hours = int(left.total_seconds() // 3600)
    if hours >= 1:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return _("less than an hour")


@dataclass
class Deadline:
    """What a page says of a statement's deadline: the time left, and whether it is close."""

    at: datetime | None
    now: datetime

    @property
    def left(self) -> str:
        return time_left(self.at, self.now)

    @property
    def passed(self) -> bool:
        return self.at is not None and self.at <= self.now

    @property
    def urgent(self) -> bool:
        return self.at is not None and self.now < self.at <= self.now + URGENT


@dataclass
class OrganisationState:
    """One of my organisations on one open statement."""

    organisation: object
    may_sign: bool  # I hold signing authority for it in the statement's coalition
    anyone_may_sign: bool  # someone (me or a colleague) does
    signature: Signature | None
    decline: Decline | None
    signed_revision_id: int | None

    @property
    def state(self) -> str:
        """signed, earlier (signed an earlier text, not yet confirmed), declined, no_answer, or
        nobody (no answer, and nobody in the organisation may sign)."""
        if self.signature:
            return "signed" if self.signature.revision_id == self.signed_revision_id else "earlier"
        if self.decline:
            return "declined"
        return "no_answer" if self.anyone_may_sign else "nobody"

    @property
    def answered(self) -> bool:
        return self.state in ("signed", "declined")


@dataclass
class MyStatement:
    statement: Statement
    deadline: Deadline
    organisations: list[OrganisationState] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        """Every one of my organisations has signed the current text or declined."""
        return all(row.answered for row in self.organisations)

    @property
    def next_action(self) -> str:
        """confirm (a text I may confirm changed), sign (an organisation I may sign for has not
        answered), or view."""
        mine = [row.state for row in self.organisations if row.may_sign]
        if "earlier" in mine:
            return "confirm"
        return "sign" if "no_answer" in mine else "view"

    @property
    def next_organisation(self):
        """The organisation the button acts for, when only one of mine waits on me."""
        waiting = [row.organisation for row in self.organisations
                   if row.may_sign and row.state in ("earlier", "no_answer")]
        return waiting[0] if len(waiting) == 1 else None


@dataclass
class MyStatements:
    waiting: list[MyStatement]
    answered: list[MyStatement]


def my_organisations_statements(user, now: datetime | None = None) -> MyStatements:
    """Each statement open for signature that one of `user`'s organisations may sign (a current
    member of the statement's coalition, or a partner it invited, through a role made for that
    coalition), with each such organisation's state. Six queries."""
    now = now or timezone.now()
    if not user.is_authenticated:
        return MyStatements([], [])
    roles = {(role.organisation_id, role.coalition_id): role for role in
             OrganisationRole.objects.filter(user=user).select_related("organisation")}
    if not roles:
        return MyStatements([], [])
    organisation_ids = {organisation for organisation, _coalition in roles}
    coalition_ids = {coalition for _organisation, coalition in roles}
    members = set(Membership.objects.current().filter(organisation__in=organisation_ids, coalition__in=coalition_ids)
                  .values_list("organisation_id", "coalition_id"))
    invited = set(InvitedPartner.objects.filter(organisation__in=organisation_ids, statement__status=Status.OPEN,
                                                statement__coalition__in=coalition_ids)
                  .values_list("statement_id", "organisation_id"))
    statements = list(Statement.objects.filter(
        Q(coalition__in={c for _o, c in members}) | Q(pk__in={s for s, _o in invited}), status=Status.OPEN)
        .select_related("coalition", "current_revision", "signed_revision").order_by("deadline", "-opened_at"))
    ids = [s.pk for s in statements]
    signatures = {(s.statement_id, s.organisation_id): s for s in Signature.objects.live().filter(
        statement__in=ids, organisation__in=organisation_ids, kind=Signature.Kind.ORGANISATION).select_related("revision")}
    declines = {(d.statement_id, d.organisation_id): d for d in Decline.objects.filter(
        statement__in=ids, organisation__in=organisation_ids, retracted_at__isnull=True)}
    with_signer = set(OrganisationRole.objects.filter(organisation__in=organisation_ids, coalition__in=coalition_ids,
                                                      can_sign=True).values_list("organisation_id", "coalition_id"))
    result = MyStatements([], [])
    for statement in statements:
        item = MyStatement(statement, Deadline(statement.deadline, now))
        for (organisation_id, coalition_id), role in roles.items():
            if coalition_id != statement.coalition_id or not (
                    (organisation_id, coalition_id) in members or (statement.pk, organisation_id) in invited):
                continue
            key = (statement.pk, organisation_id)
            item.organisations.append(OrganisationState(
                role.organisation, role.can_sign, (organisation_id, coalition_id) in with_signer,
                signatures.get(key), declines.get(key), statement.signed_revision_id))
        item.organisations.sort(key=lambda row: name_key(row.organisation.display_name))
        (result.answered if item.answered else result.waiting).append(item)
    return result


@dataclass
class CoordinatedStatement:
    """An open or closed statement of a coalition `user` coordinates, with its answers so far."""

    statement: Statement
    deadline: Deadline
    signed: int = 0
    earlier: int = 0  # signed an earlier text, not confirmed
    declined: int = 0
    no_answer: int = 0
    remindable: int = 0  # of no_answer: someone may sign for it
    signing_over: bool = False

    @property
    def nobody_may_sign(self) -> int:
        return self.no_answer - self.remindable

    @property
    def next_action(self) -> str:
        """remind (open, organisations to remind), close (open, nobody left to remind or the
        deadline passed), or publish (closed)."""
        if self.statement.status == Status.CLOSED:
            return "publish"
        return "remind" if self.remindable and not self.signing_over else "close"


@dataclass
class CoordinatedStatements:
    open: list[CoordinatedStatement]
    closed: list[CoordinatedStatement]


def coordinated_statements(user, now: datetime | None = None) -> CoordinatedStatements:
    """The open and closed statements of the coalitions `user` coordinates, each with the counts
    the roster gives (signed, signed an earlier text, declined, no answer; how many of those
    without an answer someone may sign for) and the next step. Six queries."""
    now = now or timezone.now()
    statements = list(Statement.objects.filter(
        coalition__in=permissions.coordinated_coalitions(user), status__in=[Status.OPEN, Status.CLOSED])
        .select_related("coalition", "current_revision", "signed_revision").order_by("deadline", "-opened_at"))
    if not statements:
        return CoordinatedStatements([], [])
    ids, coalition_ids = [s.pk for s in statements], {s.coalition_id for s in statements}
    asked: dict[int, set] = {}  # coalition -> current members
    for organisation_id, coalition_id in Membership.objects.current().filter(
            coalition__in=coalition_ids).values_list("organisation_id", "coalition_id"):
        asked.setdefault(coalition_id, set()).add(organisation_id)
    partners: dict[int, set] = {}
    for statement_id, organisation_id in InvitedPartner.objects.filter(statement__in=ids).values_list(
            "statement_id", "organisation_id"):
        partners.setdefault(statement_id, set()).add(organisation_id)
    signed: dict[int, dict[int, int]] = {}  # statement -> organisation -> revision signed
    for statement_id, organisation_id, revision_id in Signature.objects.live().filter(
            statement__in=ids, kind=Signature.Kind.ORGANISATION).values_list(
            "statement_id", "organisation_id", "revision_id"):
        signed.setdefault(statement_id, {})[organisation_id] = revision_id
    declined: dict[int, set] = {}
    for statement_id, organisation_id in Decline.objects.filter(statement__in=ids, retracted_at__isnull=True) \
            .values_list("statement_id", "organisation_id"):
        declined.setdefault(statement_id, set()).add(organisation_id)
    with_signer = set(OrganisationRole.objects.filter(coalition__in=coalition_ids, can_sign=True)
                      .values_list("organisation_id", "coalition_id"))
    result = CoordinatedStatements([], [])
    for statement in statements:
        item = CoordinatedStatement(statement, Deadline(statement.deadline, now),
                                    signing_over=statement.deadline is not None and statement.deadline <= now)
        signatures = signed.get(statement.pk, {})
        for organisation_id in asked.get(statement.coalition_id, set()) | partners.get(statement.pk, set()) \
                | set(signatures):
            if organisation_id in signatures:
                if signatures[organisation_id] == statement.signed_revision_id:
                    item.signed += 1
                else:
                    item.earlier += 1
            elif organisation_id in declined.get(statement.pk, set()):
                item.declined += 1
            else:
                item.no_answer += 1
                item.remindable += (organisation_id, statement.coalition_id) in with_signer
        (result.closed if statement.status == Status.CLOSED else result.open).append(item)
    return result


@dataclass
class Draft:
    statement: Statement
    open_comments: int
    changed_by_others: bool  # the latest text is someone else's


def drafts_for_me(user, limit: int = 50) -> list[Draft]:
    """The drafts of the coalitions `user` works in, latest change first: how many comments are
    not resolved, and whether someone else saved the latest text. One query."""
    drafts = (Statement.objects.filter(status=Status.DRAFT, coalition__in=member_coalitions(user))
              .select_related("coalition", "current_revision__author")
              .annotate(open_comments=Count("comments", filter=Q(comments__resolved_at__isnull=True)))
              .order_by("-current_revision__created_at", "-created_at")[:limit])
    return [Draft(d, d.open_comments, d.current_revision is not None and d.current_revision.author_id != user.pk)
            for d in drafts]
