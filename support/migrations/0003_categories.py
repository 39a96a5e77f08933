"""The closed list of incident categories of DESIGN.md §12, as data (names editable in the admin)."""

from django.db import migrations

from support.categories import CATEGORIES


def load(apps, schema_editor):
    Category = apps.get_model("support", "IncidentCategory")
    for position, (code, name_vi, name_en) in enumerate(CATEGORIES, start=1):
        Category.objects.update_or_create(
            code=code, defaults={"name_vi": name_vi, "name_en": name_en, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("support", "0002_history_append_only")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
