"""Every "may this user do this" question, answered in one place.

Each `can_*` function takes the user (possibly anonymous) and the object and returns a bool;
`require()` turns a refusal into `PermissionDenied` (a 403).

A staff role (`OrganisationRole`) belongs to the coalition whose coordinator made it. It counts only
there: for seeing that coalition's drafts, for its statements (and those it invited the
organisation to sign as a partner), and only that coalition's coordinators change it. A role made
in coalition B gives nothing in coalition A, even for an organisation that is a member of both.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q

from .models import Coalition, CoalitionRole, Membership, Organisation, OrganisationRole


def require(allowed: bool, message: str = "") -> None:
    if not allowed:
        raise PermissionDenied(message)


def _signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


_kept: ContextVar[dict | None] = ContextVar("permission_answers", default=None)


@contextmanager
def answers_kept(user=None, coordinated: list | None = None):
    """Inside this block each question about a user's roles in a coalition is asked of the
    database once: for rendering one page, which changes no role (the statement page asks whether
    its visitor coordinates the coalition for half a dozen of its buttons). `coordinated`: the
    coalitions `user` coordinates, if already read for the request (RequireMFAMiddleware reads
    them): then whether they coordinate one is not asked at all."""
    kept = {}
    if _signed_in(user) and coordinated is not None:
        kept[("coordinated", user.pk)] = frozenset(coalition.pk for coalition in coordinated)
    token = _kept.set(kept)
    try:
        yield
    finally:
        _kept.reset(token)


def _remembered(question: tuple, answer) -> bool:
    kept = _kept.get()
    if kept is None:
        return answer()
    if question not in kept:
        kept[question] = answer()
    return kept[question]


def is_coordinator(user, coalition: Coalition) -> bool:
    if not _signed_in(user):
        return False
    coordinated = (_kept.get() or {}).get(("coordinated", user.pk))
    if coordinated is not None:
        return coalition.pk in coordinated
    return _remembered(("coordinator", user.pk, coalition.pk), lambda: CoalitionRole.objects.filter(
        user=user, coalition=coalition, role=CoalitionRole.Role.COORDINATOR
    ).exists())


def requires_mfa(user, *, coordinated: list | None = None) -> bool:
    """Coordinators of any coalition and anyone with admin access must use two-factor
    authentication (see coalition.middleware.RequireMFAMiddleware). `coordinated`: the user's
    `coordinated_coalitions`, if already read."""
    if not _signed_in(user):
        return False
    if user.is_staff or user.is_superuser:
        return True
    if coordinated is not None:
        return bool(coordinated)
    return CoalitionRole.objects.filter(user=user, role=CoalitionRole.Role.COORDINATOR).exists()


def coordinated_coalitions(user):
    if not _signed_in(user):
        return Coalition.objects.none()
    return Coalition.objects.filter(roles__user=user, roles__role=CoalitionRole.Role.COORDINATOR).distinct()


def member_organisations(user, coalition: Coalition):
    """The organisations, current members of `coalition`, on whose staff `user` is for `coalition`."""
    if not _signed_in(user):
        return Organisation.objects.none()
    return Organisation.objects.filter(
        roles__user=user,
        roles__coalition=coalition,
        memberships__coalition=coalition,
        memberships__left__isnull=True,
    ).distinct()


def is_member_staff(user, coalition: Coalition) -> bool:
    """Staff of a current member organisation, or a coordinator: those who see drafts."""
    if not _signed_in(user):
        return False
    return (_remembered(("member staff", user.pk, coalition.pk),
                        lambda: member_organisations(user, coalition).exists())
            or is_coordinator(user, coalition))


def can_invite(user, coalition: Coalition) -> bool:
    return is_coordinator(user, coalition)


def can_manage_members(user, coalition: Coalition) -> bool:
    return is_coordinator(user, coalition)


def can_sign_for(user, organisation: Organisation, coalition: Coalition) -> bool:
    """Holds signing authority for `organisation` right now, given by `coalition`'s coordinators."""
    if not _signed_in(user):
        return False
    return OrganisationRole.objects.filter(
        user=user, organisation=organisation, coalition=coalition, can_sign=True).exists()


def signing_organisations(user, coalition: Coalition):
    """The organisations `user` holds signing authority for in `coalition`."""
    if not _signed_in(user):
        return Organisation.objects.none()
    return Organisation.objects.filter(roles__user=user, roles__coalition=coalition, roles__can_sign=True).distinct()


def is_current_member(organisation: Organisation, coalition: Coalition) -> bool:
    return Membership.objects.current().filter(organisation=organisation, coalition=coalition).exists()


def _invited_partner_ids(coalition: Coalition):
    # statements sits above coalition: its partner invitations are reached by the reverse relations.
    return coalition.statements.filter(invited_partners__isnull=False).values("invited_partners__organisation")


def coalition_partners(coalition: Coalition):
    """Organisations from outside `coalition` that it invited to sign one of its statements."""
    members = Membership.objects.current().filter(coalition=coalition).values("organisation")
    return Organisation.objects.filter(pk__in=_invited_partner_ids(coalition)).exclude(pk__in=members)


def staffed_organisations(coalition: Coalition):
    """The organisations whose staff `coalition`'s coordinators invite and manage: its current
    members and the partners it invited to sign one of its statements."""
    members = Membership.objects.current().filter(coalition=coalition).values("organisation")
    return Organisation.objects.filter(Q(pk__in=members) | Q(pk__in=_invited_partner_ids(coalition)))


def can_view_outbox(user, coalition: Coalition) -> bool:
    """Coordinators see the coalition's email that could not be delivered, and try it again."""
    return is_coordinator(user, coalition)


# Statements. Who may do what to a statement; from which state is `statements.workflow`'s question,
# except where the state changes who may act (drafts are for member staff, open texts for coordinators).


def can_create_statement(user, coalition: Coalition) -> bool:
    """Staff of a current member organisation, and coordinators, start drafts."""
    return is_member_staff(user, coalition)


def can_view_statement(user, statement) -> bool:
    """Published statements are public, and stay public, marked withdrawn, if withdrawn later; so is
    a statement open for signature by individuals, while it is open. Drafts, other open and closed
    ones, and those withdrawn before publication, are seen only by staff of the coalition's current
    member organisations, its coordinators and staff of partners invited to sign."""
    if statement.is_public:
        return True
    if statement.status == statement.Status.OPEN and statement.allows_individuals:
        return True  # anyone may read, and sign, a statement open to individuals
    return is_member_staff(user, statement.coalition) or can_view_statement_as_partner(user, statement)


def can_view_drafting(user, statement) -> bool:
    """The revisions, their differences and the comments: the coalition's own working papers."""
    return is_member_staff(user, statement.coalition)


def can_edit_statement(user, statement) -> bool:
    """Member staff edit a draft; once open, only coordinators may change the text; after that
    the text is fixed."""
    if statement.status == statement.Status.DRAFT:
        return is_member_staff(user, statement.coalition)
    if statement.status == statement.Status.OPEN:
        return is_coordinator(user, statement.coalition)
    return False


def can_translate(user, statement) -> bool:
    return can_edit_statement(user, statement)


def can_comment(user, statement) -> bool:
    return statement.status == statement.Status.DRAFT and is_member_staff(user, statement.coalition)


def can_resolve_comment(user, comment) -> bool:
    return is_coordinator(user, comment.statement.coalition)


def can_open(user, statement) -> bool:
    return is_coordinator(user, statement.coalition)


def can_close(user, statement) -> bool:
    return is_coordinator(user, statement.coalition)


def can_reopen(user, statement) -> bool:
    return is_coordinator(user, statement.coalition)


def can_move_deadline(user, statement) -> bool:
    return is_coordinator(user, statement.coalition)


def can_publish(user, statement) -> bool:
    return is_coordinator(user, statement.coalition)


def can_withdraw(user, statement) -> bool:
    return is_coordinator(user, statement.coalition)


def can_view_history(user, statement) -> bool:
    """The statement's audit events: who did what, when."""
    return is_coordinator(user, statement.coalition)


# Signatures. Whether signing is open (state and deadline) is `statements.services.cosigning`'s question.


def is_invited_partner(organisation: Organisation, statement) -> bool:
    """An organisation from outside the coalition that coordinators invited to sign `statement`."""
    return statement.invited_partners.filter(organisation=organisation).exists()


def may_sign_statement(organisation: Organisation, statement) -> bool:
    """A current member of the statement's coalition, or a partner invited to sign it."""
    return is_current_member(organisation, statement.coalition) or is_invited_partner(organisation, statement)


def signable_organisations(user, statement):
    """The organisations `user` may sign `statement` for: they hold `can_sign` for it in the
    statement's coalition, and it is a current member of the coalition or an invited partner."""
    if not _signed_in(user):
        return Organisation.objects.none()
    eligible = Organisation.objects.filter(
        Q(memberships__coalition=statement.coalition, memberships__left__isnull=True)
        | Q(pk__in=statement.invited_partners.values("organisation"))
    )
    return signing_organisations(user, statement.coalition).filter(pk__in=eligible.values("pk")).order_by("name")


def can_sign_statement(user, statement) -> bool:
    """May sign `statement` for at least one organisation (`signable_organisations` is not empty)."""
    if not _signed_in(user):
        return False
    return _remembered(("may sign", user.pk, statement.pk),
                       lambda: signable_organisations(user, statement).exists())


def ask_staff_roles(user, statement) -> None:
    """Inside `answers_kept`, asks in one query the two questions the statement page asks of the
    visitor's staff roles in its coalition: on a current member's staff (`is_member_staff`, before
    it asks about coordinators) and holding signing authority for an organisation that may sign it
    (`can_sign_statement`). Outside `answers_kept` it does nothing: each is asked on its own."""
    kept = _kept.get()
    if kept is None or not _signed_in(user):
        return
    coalition = statement.coalition
    staff = signing = False
    with connection.cursor() as cursor:
        cursor.execute(_staff_roles_sql(statement.invited_partners.model),
                       [coalition.pk, statement.pk, user.pk, coalition.pk])
        rows = cursor.fetchall()
    for can_sign, member, invited in rows:
        member, invited = bool(member), bool(invited)  # SQLite answers EXISTS with 0 or 1
        staff = staff or member
        signing = signing or (can_sign and (member or invited))
    kept.setdefault(("member staff", user.pk, coalition.pk), staff)
    kept.setdefault(("may sign", user.pk, statement.pk), signing)


@cache
def _staff_roles_sql(partner_model) -> str:
    """The visitor's roles in a coalition, each with whether its organisation is a current member
    and whether it was invited to sign the statement: written out, as this page asks it on every
    signed-in view and building it through the ORM (two `EXISTS`) cost more than running it.
    Parameters: coalition, statement, user, coalition. `partner_model`: statements' invited
    partners, reached through the statement so this module needs no import of it. Only names from
    the models go into it; the values are parameters."""

    def column(model, field: str) -> str:
        return connection.ops.quote_name(model._meta.get_field(field).column)

    def table(model) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    role, membership, partner = OrganisationRole, Membership, partner_model
    return (f"SELECT r.{column(role, 'can_sign')}, "
            f"EXISTS (SELECT 1 FROM {table(membership)} m WHERE m.{column(membership, 'coalition')} = %s"
            f" AND m.{column(membership, 'organisation')} = r.{column(role, 'organisation')}"
            f" AND m.{column(membership, 'left')} IS NULL), "
            f"EXISTS (SELECT 1 FROM {table(partner)} p WHERE p.{column(partner, 'statement')} = %s"
            f" AND p.{column(partner, 'organisation')} = r.{column(role, 'organisation')}) "
            f"FROM {table(role)} r WHERE r.{column(role, 'user')} = %s AND r.{column(role, 'coalition')} = %s")


def can_sign_statement_for(user, statement, organisation: Organisation) -> bool:
    """Holds signing authority for `organisation` now, given in the statement's coalition, and the
    organisation may sign `statement`. The same question answers declining and confirming a
    changed text for the organisation."""
    return can_sign_for(user, organisation, statement.coalition) and may_sign_statement(organisation, statement)


def can_withdraw_signature(user, signature) -> bool:
    """An organisation's signature is withdrawn by someone who may sign for it now in the
    statement's coalition."""
    return signature.organisation_id is not None and can_sign_for(
        user, signature.organisation, signature.statement.coalition)


def can_view_statement_as_partner(user, statement) -> bool:
    """Staff of an invited partner, on its staff for the statement's coalition, see the statement
    they were invited to sign while it is not yet public (they do not see the coalition's drafting)."""
    if not _signed_in(user):
        return False
    return statement.invited_partners.filter(
        organisation__roles__user=user, organisation__roles__coalition=statement.coalition).exists()


def can_view_roster(user, statement) -> bool:
    """Which organisations signed, declined or have not answered; the signatures export."""
    return is_coordinator(user, statement.coalition)


def can_order_signatories(user, statement) -> bool:
    """Coordinators set the order signatory organisations are listed in (page and PDF)."""
    return is_coordinator(user, statement.coalition)


def can_hide_signature(user, signature) -> bool:
    """Coordinators hide an abusive individual signature (organisations withdraw their own)."""
    return signature.organisation_id is None and is_coordinator(user, signature.statement.coalition)


def can_invite_partner(user, statement) -> bool:
    return is_coordinator(user, statement.coalition)


def can_remind(user, statement) -> bool:
    """Coordinators remind the organisations that have not answered a statement open for signature."""
    return is_coordinator(user, statement.coalition)
