"""The outbox's model moves from the statements app to this one, beside email preferences and
delivery. Its table keeps its name (`statements_outboundemail`) and its rows: only Django's record
of which app holds the model changes (statements 0017 drops it there), and the content type with
it, so admin permissions on outbound emails stay with the people who had them."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def content_type_to(app_label: str, from_label: str):
    def move(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        if ContentType.objects.filter(app_label=app_label, model="outboundemail").exists():
            return  # made for the new place already; permissions there are kept as they are
        ContentType.objects.filter(app_label=from_label, model="outboundemail").update(app_label=app_label)

    return move


class Migration(migrations.Migration):

    dependencies = [
        ('coalition', '0012_coalition_look'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='OutboundEmail',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(db_index=True, max_length=40, verbose_name='kind')),
                        ('dedupe_key', models.CharField(max_length=255, unique=True)),
                        ('recipient', models.EmailField(max_length=254, verbose_name='recipient')),
                        ('language', models.CharField(default='en', max_length=8, verbose_name='language')),
                        ('subject', models.CharField(max_length=300, verbose_name='subject')),
                        ('body_text', models.TextField()),
                        ('body_html', models.TextField(blank=True)),
                        ('headers', models.JSONField(blank=True, default=dict)),
                        ('message_id', models.CharField(max_length=255, unique=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                        ('due_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='due')),
                        ('attempts', models.PositiveIntegerField(default=0, verbose_name='attempts')),
                        ('last_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('last_error', models.TextField(blank=True, verbose_name='last error')),
                        ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent')),
                        ('failed_at', models.DateTimeField(blank=True, null=True, verbose_name='given up')),
                        ('coalition', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='coalition.coalition')),
                    ],
                    options={
                        'verbose_name': 'outbound email',
                        'verbose_name_plural': 'outbound emails',
                        'db_table': 'statements_outboundemail',
                        'ordering': ['id'],
                        'indexes': [models.Index(condition=models.Q(('failed_at__isnull', True), ('sent_at__isnull', True)), fields=['due_at'], name='outbox_unsent_due')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to("coalition", "statements"), content_type_to("statements", "coalition")),
    ]
