"""coalition/migrations/0005 gives each existing staff role the coalition it was made for (the
rules are in the migration's docstring and the README)."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from coalition.models import OrganisationRole
from statements.models import InvitedPartner

from . import factories

BEFORE = ("coalition", "0004_audit_append_only")


def migrate(target=None):
    """To `target`, or forward to the latest of every app (so nothing after 0005 is left unapplied)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_roles_get_the_coalition_that_made_them_or_of_the_membership():
    a, b, c = (factories.CoalitionFactory(name=f"Coalition {n}", slug=f"migrated-{n}") for n in "abc")
    shared = factories.OrganisationFactory(name="Shared")
    factories.MembershipFactory(coalition=a, organisation=shared, joined=date(2020, 1, 1))
    factories.MembershipFactory(coalition=b, organisation=shared, joined=date(2021, 1, 1))
    partner = factories.OrganisationFactory(name="Partner")
    statement = factories.make_statement(c, by=factories.CoordinatorFactory(coalition=c).user)
    InvitedPartner.objects.create(statement=statement, organisation=partner, invited_by=statement.revisions.get().author)
    former = factories.OrganisationFactory(name="Former")
    factories.MembershipFactory(coalition=c, organisation=former, joined=date(2020, 1, 1), left=date(2022, 1, 1))
    lonely = factories.OrganisationFactory(name="Lonely")
    invited_by_b, admin_made, partner_staff, former_staff, lonely_staff = (
        factories.UserFactory(email=f"{who}@example.org") for who in ("invited", "admin", "partner", "former", "lonely"))
    factories.InvitationFactory(coalition=b, organisation=shared, email="INVITED@example.org", role="signer",
                                accepted_at=timezone.now())

    old = migrate(BEFORE)
    Role = old.get_model("coalition", "OrganisationRole")
    since = timezone.now()
    for user, organisation, can_sign in [(invited_by_b, shared, True), (admin_made, shared, True),
                                         (partner_staff, partner, True), (former_staff, former, False),
                                         (lonely_staff, lonely, True)]:
        Role.objects.create(user_id=user.pk, organisation_id=organisation.pk, can_sign=can_sign,
                            signing_since=since if can_sign else None)
    migrate()

    def roles(user):
        return sorted((r.coalition.slug, r.can_sign, r.signing_since) for r in OrganisationRole.objects.filter(user=user))

    assert roles(invited_by_b) == [("migrated-b", True, since)]  # the invitation's coalition only
    assert roles(admin_made) == [("migrated-a", True, since), ("migrated-b", True, since)]  # one per membership
    assert roles(partner_staff) == [("migrated-c", True, since)]  # the coalition that invited it as partner
    assert roles(former_staff) == [("migrated-c", False, None)]  # its last coalition: no access there now
    assert roles(lonely_staff) == []  # it counted nowhere: deleted
