"""A worker killed with SIGKILL in the middle of a webhook delivery loses nothing (DESIGN.md §14): the
message stays pending and claimed, the attempt that never got an answer stays in the log, and once the
claim has run out the next run sends the message again with the same webhook-id, so the receiver (which
deduplicates on it) gets it once in effect.

The receiver is a local HTTP server started by the test; it holds the first request until the test lets it
go, so the worker is killed exactly while it waits for the answer."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from core import events
from integrations import jobs, services
from integrations.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from tests.faults.conftest import start_worker, wait_for
from tests.integrations.receiver import Receiver

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

KILLED = events.declare("test.worker_killed", "An event of the killed-worker test")


def test_a_worker_killed_mid_delivery_loses_nothing(
    reference_data, redis_server, use_redis, processes, settings, monkeypatch
):
    # The receiver is on a loopback address over plain HTTP: allowed for this test (and its workers) only.
    settings.WEBHOOKS_ALLOW_HTTP = settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    monkeypatch.setenv("PLAN02_WEBHOOKS_ALLOW_HTTP", "true")
    monkeypatch.setenv("PLAN02_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", "true")
    use_redis(redis_server.url)
    with Receiver([200], hold=True) as receiver:
        with transaction.atomic():
            WebhookEndpoint.objects.create(name="NMS", url=receiver.url, owner_email="nms@example.gov.vn")
            events.emit(KILLED, subject="thing", subject_id=1, province="01")
        assert services.webhooks_dispatch() == 1
        message = WebhookMessage.objects.get()

        worker = start_worker(processes, "w1", redis_url=redis_server.url, concurrency=1)
        jobs.webhook_deliver.delay(message.pk)
        assert receiver.arrived.wait(60), worker.tail()
        claimed = WebhookMessage.objects.get()
        assert claimed.status == WebhookMessage.Status.PENDING and claimed.claimed_until > timezone.now()
        worker.kill()

        # Nothing is lost: the message is pending, its attempt is on record without an answer.
        (unanswered,) = WebhookAttempt.objects.all()
        assert unanswered.finished_at is None and unanswered.response_status is None
        assert services.due_messages() == []  # still claimed: no second sender while the first may be alive
        receiver.arrived.clear()
        receiver.release.set()
        # The claim runs out (it outlasts a request's timeouts); the next run on another worker sends again.
        WebhookMessage.objects.update(claimed_until=timezone.now() - datetime.timedelta(seconds=1))
        start_worker(processes, "w2", redis_url=redis_server.url, concurrency=1)
        jobs.webhooks_run.delay()
        wait_for(
            lambda: WebhookMessage.objects.filter(status=WebhookMessage.Status.DELIVERED).exists(),
            timeout=60,
            what="the message to be delivered by the second worker",
        )
    ids = [request["headers"]["webhook-id"] for request in receiver.requests]
    assert ids == [message.webhook_id, message.webhook_id]
    delivered = WebhookMessage.objects.get()
    assert delivered.attempts == 2 and delivered.claimed_until is None
    assert [(a.number, a.response_status) for a in WebhookAttempt.objects.order_by("number")] == [(1, None), (2, 200)]
