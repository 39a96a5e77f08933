"""Load task groups, phases and agencies from fixtures/reference.json.

Missing rows are created; existing rows are left as they are, because their wording is editable in the
admin (the official names may differ from the short forms shipped here). Running it twice changes nothing.
"""

import json
from pathlib import Path

from django.conf import settings
from django.db import transaction

from core.dates import parse_date
from tasks.models import Agency, Phase, TaskGroup

REFERENCE_FILE = Path(settings.BASE_DIR) / "fixtures" / "reference.json"


@transaction.atomic
def reference_load(*, path=REFERENCE_FILE):
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    created = {"groups": 0, "phases": 0, "agencies": 0}
    for item in data["groups"]:
        _, was_created = TaskGroup.objects.get_or_create(number=item["number"], defaults=item)
        created["groups"] += was_created
    for item in data["phases"]:
        values = {
            **item,
            "starts_on": parse_date(item["starts_on"]),
            "deadline": parse_date(item["deadline"]),
        }
        _, was_created = Phase.objects.get_or_create(code=item["code"], defaults=values)
        created["phases"] += was_created
    for item in data["agencies"]:
        _, was_created = Agency.objects.get_or_create(code=item["code"], defaults=item)
        created["agencies"] += was_created
    return created
