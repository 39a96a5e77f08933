from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_initial"),
        ("plan02", "0002_generation_moved_to_core"),
    ]

    operations = [
        migrations.AlterModelTable(name="generation", table=None),
    ]
