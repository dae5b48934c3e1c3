"""Reminders recorded as rows (`Reminder`), and the history of reminders already sent read once
from the outbox, so an organisation reminded before the upgrade is not reminded again too soon.

Before this, whether an organisation had been reminded was found by parsing the dedupe keys of
the reminder emails in the outbox. This migration is the only place left that parses them, as
they were written up to now:

- `signature-reminder:<statement>:<organisation>:<address>`: the automatic reminder before
  the deadline, once per organisation;
- `signature-reminder-by-coordinator:<statement>:<organisation>:<period>:<address>`: a
  coordinator's, once per organisation and SIGNATURE_MANUAL_REMINDER_HOURS period.

Each reminder wrote one email per signer; it becomes one row, at its latest email's time (the
coordinator who asked is not in the key: `by` stays empty). Backwards nothing is to be done:
the table goes, the outbox rows were never changed."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

AUTOMATIC_PREFIX = "signature-reminder:"
COORDINATOR_PREFIX = "signature-reminder-by-coordinator:"


def record_past_reminders(apps, schema_editor):
    OutboundEmail = apps.get_model("coalition", "OutboundEmail")  # the outbox moved there in 0017
    Reminder = apps.get_model("statements", "Reminder")
    Statement = apps.get_model("statements", "Statement")
    Organisation = apps.get_model("coalition", "Organisation")
    latest: dict[tuple, object] = {}
    emails = OutboundEmail.objects.filter(dedupe_key__startswith="signature-reminder")
    for key, at in emails.values_list("dedupe_key", "created_at").iterator():
        if key.startswith(AUTOMATIC_PREFIX):
            _kind, statement_id, organisation_id = key.split(":")[:3]
            reminder = (int(statement_id), int(organisation_id), "automatic", None)
        elif key.startswith(COORDINATOR_PREFIX):
            _kind, statement_id, organisation_id, period = key.split(":")[:4]
            reminder = (int(statement_id), int(organisation_id), "coordinator", period)
        else:
            continue
        latest[reminder] = max(at, latest.get(reminder, at))
    statements = set(Statement.objects.filter(pk__in={r[0] for r in latest}).values_list("pk", flat=True))
    organisations = set(Organisation.objects.filter(pk__in={r[1] for r in latest}).values_list("pk", flat=True))
    Reminder.objects.bulk_create(
        [Reminder(statement_id=statement_id, organisation_id=organisation_id, kind=kind, queued_at=at)
         for (statement_id, organisation_id, kind, _period), at in sorted(latest.items(), key=lambda item: item[1])
         if statement_id in statements and organisation_id in organisations],
        batch_size=1000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("coalition", "0012_coalition_look"),
        ("statements", "0017_move_outboundemail"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Reminder",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("automatic", "Automatic"), ("coordinator", "Coordinator")],
                                          max_length=12)),
                ("queued_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                         related_name="+", to=settings.AUTH_USER_MODEL)),
                ("organisation", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                   to="coalition.organisation")),
                ("statement", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="reminders",
                                                to="statements.statement")),
            ],
            options={
                "ordering": ["queued_at", "id"],
                "indexes": [models.Index(fields=["statement", "organisation"], name="reminder_statement_org")],
            },
        ),
        migrations.RunPython(record_past_reminders, migrations.RunPython.noop, elidable=False),
    ]
