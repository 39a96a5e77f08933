"""Load task groups, phases, agencies and the steering committee's working groups from fixtures/reference.json.

Missing rows are created; existing rows are left as they are, because their wording is editable in the
admin (the official names may differ from the short forms shipped here). Running it twice changes nothing.
"""

import json
from pathlib import Path

from django.conf import settings
from django.db import transaction

from core.dates import parse_date
from tasks.models import Agency, Phase, TaskGroup, WorkingGroup

REFERENCE_FILE = Path(settings.BASE_DIR) / "fixtures" / "reference.json"


@transaction.atomic
def reference_load(*, path=REFERENCE_FILE):
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    created = {"groups": 0, "phases": 0, "agencies": 0, "working_groups": 0}
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
    groups = {g.number: g for g in TaskGroup.objects.all()}
    for item in data.get("working_groups", []):
        values = {k: v for k, v in item.items() if k != "task_groups"}
        working_group, was_created = WorkingGroup.objects.get_or_create(number=item["number"], defaults=values)
        if was_created:
            working_group.task_groups.set([groups[n] for n in item["task_groups"]])
        created["working_groups"] += was_created
    return created
