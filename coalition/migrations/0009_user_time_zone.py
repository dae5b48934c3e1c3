import coalition.time_zones
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('coalition', '0008_i2_demo_data_and_names'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='time_zone',
            field=models.CharField(blank=True, help_text='Times are always shown in the site’s zone (Kyiv); with a zone chosen here they are also shown in it. Blank: the site’s zone only.', max_length=64, validators=[coalition.time_zones.validate_time_zone], verbose_name='time zone'),
        ),
    ]
