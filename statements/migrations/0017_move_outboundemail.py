"""The outbox's model now belongs to the coalition app (coalition 0013), which keeps its table:
here it only leaves this app's record of models, and no table or row is touched."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('coalition', '0013_outboundemail'),
        ('statements', '0016_search_text'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='OutboundEmail')],
            database_operations=[],
        ),
    ]
