"""What `manage.py seed_demo` made is marked `demo`: it gives roles only on those organisations and
that coalition, never on real ones that share a demo name. Names (people's, organisations') and
descriptions are checked by coalition.validators (no web address, bidi or control character).

Rows made by seed_demo before this migration are not marked (nothing tells them from real ones):
seed_demo then refuses to run on that database, and says why."""

from django.db import migrations, models

import coalition.validators

HELP = "Made by manage.py seed_demo, which gives roles only on what it made itself."


class Migration(migrations.Migration):

    dependencies = [
        ("coalition", "0007_i3_invitation_token_hash"),
    ]

    operations = [
        migrations.AddField(
            model_name="coalition",
            name="demo",
            field=models.BooleanField(default=False, editable=False, help_text=HELP, verbose_name="demo data"),
        ),
        migrations.AddField(
            model_name="organisation",
            name="demo",
            field=models.BooleanField(default=False, editable=False, help_text=HELP, verbose_name="demo data"),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="name",
            field=models.CharField(max_length=200, unique=True, validators=[coalition.validators.validate_name],
                                   verbose_name="name"),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="description",
            field=models.TextField(blank=True, validators=[coalition.validators.validate_description],
                                   verbose_name="description"),
        ),
        migrations.AlterField(
            model_name="user",
            name="name",
            field=models.CharField(blank=True, max_length=200, validators=[coalition.validators.validate_name],
                                   verbose_name="name"),
        ),
    ]
