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
