"""Demo data of the integrations (`make run`): a webhook endpoint, switched off (its address is an example),
so the admin shows how one is registered. The events themselves come from the demo's own changes (the
meetings frozen, the alerts raised by the first run)."""

from django.db import transaction

from integrations.models import WebhookEndpoint

DEMO_URL = "https://giamsat.example.gov.vn/hooks/plan02"


def demo_integrations_ensure(*, write=print) -> None:
    if WebhookEndpoint.objects.filter(url=DEMO_URL).exists():
        return
    with transaction.atomic():
        WebhookEndpoint.objects.create(
            name="Hệ thống giám sát quốc gia (demo)",
            url=DEMO_URL,
            event_types=["report.accepted", "report.corrected", "meeting.frozen"],
            owner_email="ops@plan02-demo.example",
            active=False,
        )
    write("demo webhook endpoint created (switched off: its address is an example)")
