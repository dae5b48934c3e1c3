"""Every "may this user do this" question, answered in one place.

Each `can_*` function takes the user (possibly anonymous) and the object and returns a bool;
`require()` turns a refusal into `PermissionDenied` (a 403).
"""

from django.core.exceptions import PermissionDenied

from .models import Coalition, CoalitionRole, Membership, Organisation, OrganisationRole


def require(allowed: bool, message: str = "") -> None:
    if not allowed:
        raise PermissionDenied(message)


def _signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_coordinator(user, coalition: Coalition) -> bool:
    if not _signed_in(user):
        return False
    return CoalitionRole.objects.filter(
        user=user, coalition=coalition, role=CoalitionRole.Role.COORDINATOR
    ).exists()


def coordinated_coalitions(user):
    if not _signed_in(user):
        return Coalition.objects.none()
    return Coalition.objects.filter(roles__user=user, roles__role=CoalitionRole.Role.COORDINATOR).distinct()


def member_organisations(user, coalition: Coalition):
    """The organisations, current members of `coalition`, on whose staff `user` is."""
    if not _signed_in(user):
        return Organisation.objects.none()
    return Organisation.objects.filter(
        roles__user=user,
        memberships__coalition=coalition,
        memberships__left__isnull=True,
    ).distinct()


def is_member_staff(user, coalition: Coalition) -> bool:
    """Staff of a current member organisation, or a coordinator: those who see drafts."""
    return member_organisations(user, coalition).exists() or is_coordinator(user, coalition)


def can_invite(user, coalition: Coalition) -> bool:
    return is_coordinator(user, coalition)


def can_manage_members(user, coalition: Coalition) -> bool:
    return is_coordinator(user, coalition)


def can_sign_for(user, organisation: Organisation) -> bool:
    """Holds signing authority for `organisation` right now."""
    if not _signed_in(user):
        return False
    return OrganisationRole.objects.filter(user=user, organisation=organisation, can_sign=True).exists()


def signing_organisations(user):
    if not _signed_in(user):
        return Organisation.objects.none()
    return Organisation.objects.filter(roles__user=user, roles__can_sign=True).distinct()


def is_current_member(organisation: Organisation, coalition: Coalition) -> bool:
    return Membership.objects.current().filter(organisation=organisation, coalition=coalition).exists()


def can_view_outbox(user, coalition: Coalition) -> bool:
    """Coordinators see the coalition's email that could not be delivered, and try it again."""
    return is_coordinator(user, coalition)


# Statements. Who may do what to a statement; from which state is `statements.workflow`'s question,
# except where the state changes who may act (drafts are for member staff, open texts for coordinators).


def can_create_statement(user, coalition: Coalition) -> bool:
    """Staff of a current member organisation, and coordinators, start drafts."""
    return is_member_staff(user, coalition)


def can_view_statement(user, statement) -> bool:
    """Published statements are public, and stay public, marked withdrawn, if withdrawn later.
    Drafts, open and closed ones, and those withdrawn before publication, are seen only by staff of
    the coalition's current member organisations and its coordinators."""
    if statement.is_public:
        return True
    return is_member_staff(user, statement.coalition)


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


def can_publish(user, statement) -> bool:
    return is_coordinator(user, statement.coalition)


def can_withdraw(user, statement) -> bool:
    return is_coordinator(user, statement.coalition)


def can_view_history(user, statement) -> bool:
    """The statement's audit events: who did what, when."""
    return is_coordinator(user, statement.coalition)
