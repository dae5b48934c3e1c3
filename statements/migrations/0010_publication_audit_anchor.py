"""Each publication records the audit log's head (event number and hash) when its PDF is made: the
anchor printed in the PDF and listed on /transparency/, against which `verify_audit` checks the
chain. Issues made before have none."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("statements", "0009_signature_erasure"),
        ("coalition", "0004_audit_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="publication",
            name="audit_event_id",
            field=models.PositiveBigIntegerField(blank=True, null=True, verbose_name="audit event anchored"),
        ),
        migrations.AddField(
            model_name="publication",
            name="audit_hash",
            field=models.CharField(blank=True, max_length=64, verbose_name="hash of the audit event anchored"),
        ),
    ]
