from django.db import migrations, models
from django.db.models import F


def backfill(apps, schema_editor):
    """Staff who may sign already: since the role was made, the earliest date known."""
    OrganisationRole = apps.get_model("coalition", "OrganisationRole")
    OrganisationRole.objects.filter(can_sign=True, signing_since__isnull=True).update(signing_since=F("created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("coalition", "0002_email_opt_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="organisationrole",
            name="signing_since",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="may sign since"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
