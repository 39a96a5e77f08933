"""Jobs of the integrations app (on the beat schedule, plan02/celery.py). Thin: each calls one service."""

from celery import shared_task

from integrations import services


@shared_task(name="integrations.jobs.webhooks_run", ignore_result=True)
def webhooks_run() -> int:
    """Fan out the new events to the endpoints' messages, then hand every due message to a delivery job.
    Run every few seconds; running it twice at once is harmless (serialised fan-out, claimed deliveries)."""
    services.webhooks_dispatch()
    due = services.due_messages()
    for message_id in due:
        webhook_deliver.delay(message_id)
    return len(due)


@shared_task(name="integrations.jobs.webhook_deliver", ignore_result=True)
def webhook_deliver(message_id: int) -> str | None:
    return services.webhook_deliver(message_id=message_id)


@shared_task(name="integrations.jobs.events_purge", ignore_result=True)
def events_purge() -> int:
    return services.events_purge()
