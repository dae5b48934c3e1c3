"""A staff role (and its signing authority) belongs to one coalition.

Until now a role tied a person to an organisation only, so it counted in every coalition the
organisation belonged to: a coordinator of coalition B could make someone a signer who then acted
on coalition A's statements. Each existing role is given the coalition it was made for, decided per
role in this order (the first rule that yields a coalition wins):

1. The coalitions of the accepted invitations that brought this person to this organisation
   (accepted by them, or sent to their address): the coordinators who made the role. A person
   invited to the same organisation by two coalitions gets one role in each, with the same
   signing authority (both coalitions brought them in). A role made by an invitation of coalition B
   no longer counts in coalition A: that is the fix.
2. Otherwise (a role made in the admin or by the demo), one role per coalition the organisation
   is a current member of, oldest membership first, each with the same signing authority: that
   was the access the person had, and a coordinator of each coalition now sees the role on their
   people page and can withdraw it there.
3. Otherwise (an organisation in no coalition now), one role per coalition that invited the
   organisation to sign one of its statements as a partner: that was the only place the role
   counted.
4. Otherwise, the coalition of the organisation's most recent past membership: the role gave no
   access, and keeps none unless the organisation rejoins that coalition.
5. A role that maps to no coalition at all (an organisation that never belonged to one and was
   never invited as a partner) gave no access to anything; it is deleted.

Copies keep `can_sign`, `signing_since` and `created_at`. The reverse migration keeps one role per
(person, organisation), the oldest.
"""

import django.db.models.deletion
from django.db import migrations, models


def _unique(ids) -> list[int]:
    return list(dict.fromkeys(ids))


def _coalitions_for(apps, role) -> list[int]:
    Invitation = apps.get_model("coalition", "Invitation")
    Membership = apps.get_model("coalition", "Membership")
    InvitedPartner = apps.get_model("statements", "InvitedPartner")
    invited = (Invitation.objects.filter(organisation_id=role.organisation_id, accepted_at__isnull=False)
               .filter(models.Q(accepted_by_id=role.user_id) | models.Q(email__iexact=role.user.email))
               .order_by("accepted_at", "pk").values_list("coalition_id", flat=True))
    memberships = Membership.objects.filter(organisation_id=role.organisation_id)
    current = memberships.filter(left__isnull=True).order_by("joined", "pk").values_list("coalition_id", flat=True)
    partners = (InvitedPartner.objects.filter(organisation_id=role.organisation_id).order_by("created_at", "pk")
                .values_list("statement__coalition_id", flat=True))
    past = memberships.filter(left__isnull=False).order_by("-left", "-pk").values_list("coalition_id", flat=True)[:1]
    for candidates in (invited, current, partners, past):
        if coalitions := _unique(candidates):
            return coalitions
    return []


def assign_coalitions(apps, schema_editor):
    OrganisationRole = apps.get_model("coalition", "OrganisationRole")
    for role in OrganisationRole.objects.filter(coalition__isnull=True).select_related("user").order_by("pk"):
        coalitions = _coalitions_for(apps, role)
        if not coalitions:
            role.delete()
            continue
        first, *others = coalitions
        role.coalition_id = first
        role.save(update_fields=["coalition"])
        for coalition_id in others:
            OrganisationRole.objects.create(
                user_id=role.user_id, organisation_id=role.organisation_id, coalition_id=coalition_id,
                can_sign=role.can_sign, signing_since=role.signing_since, created_at=role.created_at)
    if schema_editor.connection.vendor == "postgresql":
        # Check the new rows' foreign keys now, so that the ALTER TABLE below finds no pending
        # trigger events in this transaction.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def keep_one_role_per_organisation(apps, schema_editor):
    OrganisationRole = apps.get_model("coalition", "OrganisationRole")
    seen = set()
    for role in OrganisationRole.objects.order_by("created_at", "pk"):
        if (role.user_id, role.organisation_id) in seen:
            role.delete()
        seen.add((role.user_id, role.organisation_id))


class Migration(migrations.Migration):

    dependencies = [
        ("coalition", "0004_audit_append_only"),
        # The partner rule (3) reads which statements invited an organisation.
        ("statements", "0004_signatures"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="organisationrole", name="one_role_per_organisation"),
        migrations.AddField(
            model_name="organisationrole",
            name="coalition",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="organisation_roles",
                to="coalition.coalition", verbose_name="coalition"),
        ),
        migrations.RunPython(assign_coalitions, keep_one_role_per_organisation),
        migrations.AlterField(
            model_name="organisationrole",
            name="coalition",
            field=models.ForeignKey(
                help_text="The coalition whose statements this role counts for.",
                on_delete=django.db.models.deletion.CASCADE, related_name="organisation_roles",
                to="coalition.coalition", verbose_name="coalition"),
        ),
        migrations.AddConstraint(
            model_name="organisationrole",
            constraint=models.UniqueConstraint(fields=("user", "organisation", "coalition"),
                                               name="one_role_per_organisation_and_coalition"),
        ),
    ]
