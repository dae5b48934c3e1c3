import pytest

from coalition import permissions

from . import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "who, may_coordinate, member_staff, may_invite, may_sign",
    [
        ("anonymous", False, False, False, False),
        ("outsider", False, False, False, False),
        ("staff", False, True, False, False),
        ("signer", False, True, False, True),
        ("coordinator", True, True, True, False),
    ],
)
def test_permission_grid(request, coalition, member_org, who, may_coordinate, member_staff, may_invite, may_sign):
    from django.contrib.auth.models import AnonymousUser

    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    assert permissions.is_coordinator(user, coalition) is may_coordinate
    assert permissions.is_member_staff(user, coalition) is member_staff
    assert permissions.can_invite(user, coalition) is may_invite
    assert permissions.can_sign_for(user, member_org, coalition) is may_sign


def test_coordinator_of_one_coalition_is_not_coordinator_of_another(coordinator):
    other = factories.CoalitionFactory()
    assert not permissions.is_coordinator(coordinator, other)
    assert not permissions.can_invite(coordinator, other)


def test_staff_of_an_organisation_that_left_is_no_longer_member_staff(coalition, member_org, staff):
    from django.utils import timezone

    member_org.memberships.update(left=timezone.localdate())
    assert not permissions.is_member_staff(staff, coalition)


def test_signing_authority_is_for_that_organisation_only(signer, coalition):
    assert not permissions.can_sign_for(signer, factories.OrganisationFactory(), coalition)


def test_signing_authority_is_for_the_coalition_that_gave_it_only(signer, member_org, coalition):
    other = factories.MembershipFactory(organisation=member_org).coalition
    assert permissions.can_sign_for(signer, member_org, coalition)
    assert not permissions.can_sign_for(signer, member_org, other)
    assert permissions.is_member_staff(signer, coalition) and not permissions.is_member_staff(signer, other)


def test_a_deactivated_account_may_do_nothing(coalition, coordinator):
    coordinator.is_active = False
    coordinator.save()
    assert not permissions.is_coordinator(coordinator, coalition)


def test_require_raises_permission_denied():
    from django.core.exceptions import PermissionDenied

    permissions.require(True)
    with pytest.raises(PermissionDenied):
        permissions.require(False)
