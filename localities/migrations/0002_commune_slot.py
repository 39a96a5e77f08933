"""Give every commune a stable slot within its province (code order), for the rollups' bitmaps."""

from django.db import migrations, models


def assign_slots(apps, schema_editor):
    Commune = apps.get_model("localities", "Commune")
    counters = {}
    for commune in Commune.objects.order_by("province_id", "code"):
        commune.slot = counters.get(commune.province_id, 0)
        counters[commune.province_id] = commune.slot + 1
        commune.save(update_fields=["slot"])


class Migration(migrations.Migration):
    dependencies = [("localities", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="commune", name="slot", field=models.PositiveSmallIntegerField(null=True, verbose_name="slot")
        ),
        migrations.RunPython(assign_slots, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="commune", name="slot", field=models.PositiveSmallIntegerField(verbose_name="slot")
        ),
        migrations.AddConstraint(
            model_name="commune",
            constraint=models.UniqueConstraint(fields=("province", "slot"), name="commune_province_slot_uniq"),
        ),
        migrations.AddConstraint(
            model_name="commune",
            constraint=models.CheckConstraint(condition=models.Q(slot__lt=248), name="commune_slot_in_range"),
        ),
    ]
