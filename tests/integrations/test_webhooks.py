"""Webhooks (DESIGN.md §14): endpoints registered in the admin, the events fanned out to them, deliveries
signed as Standard Webhooks with the same id on every retry, backoff, the delivery log, redelivery,
switch-off after a day of failures with a mail to the owner, and no server-side request forgery."""

import datetime
import json

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks import Webhook

from core import events
from integrations import feed, services, webhooks
from integrations.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from tests.integrations.receiver import Receiver

pytestmark = pytest.mark.django_db

HOOKED = events.declare("test.hooked", "An event of the webhook tests")
OTHER = events.declare("test.other", "Another event of the webhook tests")


@pytest.fixture(autouse=True)
def _as_if_committed(monkeypatch):
    monkeypatch.setattr(feed, "horizon", lambda: 2**62 if connection.vendor == "postgresql" else None)


@pytest.fixture
def local_receivers(settings):
    """The tests' receivers listen on a loopback address over plain HTTP: allowed here only."""
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True


def endpoint(url, **fields):
    values = {"name": "Hệ thống tỉnh", "url": url, "owner_email": "owner@example.gov.vn", **fields}
    with transaction.atomic():
        return WebhookEndpoint.objects.create(**values)


def emit(event_type=HOOKED, **where):
    with transaction.atomic():
        return events.emit(event_type, subject="thing", subject_id=1, payload={"n": 1}, **where)


def deliver_all():
    services.webhooks_dispatch()
    return [services.webhook_deliver(message_id=pk) for pk in services.due_messages()]


# --- the address: no server-side request forgery ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://93.184.216.34/hook", "https_required"),
        ("ftp://93.184.216.34/hook", "https_required"),
        ("https://127.0.0.1/hook", "portal_itself"),  # ALLOWED_HOSTS of the tests
        ("https://localhost/hook", "portal_itself"),
        ("https://127.0.0.2/hook", "private_address"),
        ("https://10.1.2.3/hook", "private_address"),
        ("https://192.168.0.10/hook", "private_address"),
        ("https://169.254.169.254/latest/meta-data/", "private_address"),
        ("https://[::1]/hook", "portal_itself"),
        ("https://[fe80::1]/hook", "private_address"),
        ("https://[fd00::5]/hook", "private_address"),
        ("https://[::ffff:10.0.0.1]/hook", "private_address"),
        ("https://0.0.0.0/hook", "private_address"),
        ("https://user:pw@93.184.216.34/hook", "invalid"),
        ("https://no-such-host.invalid/hook", "unresolvable"),
        ("https:///hook", "invalid"),
    ],
)
def test_urls_that_would_forge_requests_are_refused(url, code):
    with pytest.raises(webhooks.UrlRefused) as refused:
        webhooks.check_url(url)
    assert refused.value.code == code


def test_a_public_https_address_is_accepted(settings):
    target = webhooks.check_url("https://93.184.216.34:8443/hook?x=1")
    assert (target.host, target.port, target.path, target.address) == (
        "93.184.216.34",
        8443,
        "/hook?x=1",
        "93.184.216.34",
    )
    settings.ALLOWED_HOSTS = [".example.gov.vn"]
    settings.ALERTS_PORTAL_URL = "https://plan02.example.gov.vn"
    for url in ("https://plan02.example.gov.vn/x", "https://api.example.gov.vn/x", "https://EXAMPLE.gov.vn/x"):
        with pytest.raises(webhooks.UrlRefused):
            webhooks.check_url(url)


def test_the_admin_registers_an_endpoint_checking_its_url(client, admin_user):
    from auditlog.models import LogEntry

    client.force_login(admin_user)
    form = {
        "name": "Sở KH&CN Hà Nội",
        "url": "https://10.0.0.8/hooks",
        "event_types": ["report.accepted"],
        "scope_kind": "province",
        "province": "01",
        "owner_email": "it@hanoi.gov.vn",
        "active": "on",
    }
    refused = client.post("/admin/integrations/webhookendpoint/add/", form)
    assert refused.status_code == 200 and not WebhookEndpoint.objects.exists()
    assert "url" in refused.context["adminform"].form.errors
    wrong_unit = client.post(
        "/admin/integrations/webhookendpoint/add/", {**form, "url": "https://93.184.216.34/h", "province": ""}
    )
    assert "province" in wrong_unit.context["adminform"].form.errors
    saved = client.post("/admin/integrations/webhookendpoint/add/", {**form, "url": "https://93.184.216.34/hooks"})
    assert saved.status_code == 302
    created = WebhookEndpoint.objects.get()
    assert created.created_by == admin_user and created.secret.startswith("whsec_")
    assert created.event_types == ["report.accepted"] and created.province_id == "01"
    entry = LogEntry.objects.get_for_object(created).get()
    assert entry.actor == admin_user
    assert "secret" not in json.dumps(entry.changes) and created.secret not in json.dumps(entry.changes)


# --- fan-out ----------------------------------------------------------------------------------------------


def test_events_fan_out_to_the_endpoints_that_want_them_once(local_receivers):
    national = endpoint("http://127.0.0.2:9/a")
    hanoi = endpoint("http://127.0.0.2:9/b", scope_kind="province", province_id="01", event_types=[HOOKED.code])
    off = endpoint("http://127.0.0.2:9/c", active=False)
    emit(province="01", commune="00004")
    emit(province="79")
    emit(OTHER, province="01")
    assert services.webhooks_dispatch() == 3 + 1
    assert services.webhooks_dispatch() == 0  # the mark moved on: nothing twice
    assert WebhookMessage.objects.filter(endpoint=national).count() == 3
    assert list(WebhookMessage.objects.filter(endpoint=hanoi).values_list("event_type", flat=True)) == [HOOKED.code]
    assert not WebhookMessage.objects.filter(endpoint=off).exists()
    later = endpoint("http://127.0.0.2:9/d")
    emit()
    services.webhooks_dispatch()
    assert WebhookMessage.objects.filter(endpoint=later).count() == 1  # only what happened after it was made


# --- delivery ---------------------------------------------------------------------------------------------


def test_a_delivery_is_signed_as_standard_webhooks_and_logged(local_receivers):
    with Receiver([204]) as receiver:
        hook = endpoint(receiver.url)
        event = emit(province="01", commune="00004")
        assert deliver_all() == [WebhookMessage.Status.DELIVERED]
    (request,) = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    message = WebhookMessage.objects.get()
    assert headers["webhook-id"] == message.webhook_id
    verified = Webhook(hook.secret).verify(request["body"], headers)  # raises on a bad signature
    assert verified["type"] == HOOKED.code and verified["data"]["id"] == event.pk
    assert verified["data"]["commune"] == "00004" and verified["data"]["data"] == {"n": 1}
    assert request["path"] == "/hooks/plan02"
    attempt = WebhookAttempt.objects.get()
    assert (attempt.number, attempt.response_status, attempt.error) == (1, 204, "")
    assert attempt.finished_at >= attempt.started_at and attempt.request_headers["webhook-id"] == message.webhook_id
    message.refresh_from_db()
    assert message.delivered_at is not None and message.claimed_until is None
    with pytest.raises(Exception):  # noqa: B017 - the library's verification error
        Webhook(hook.secret).verify(request["body"].replace('"n": 1', '"n": 2'), headers)


def test_failures_are_retried_with_backoff_and_the_same_id(local_receivers):
    with Receiver([500, 503, 200]) as receiver:
        endpoint(receiver.url)
        emit()
        assert deliver_all() == [WebhookMessage.Status.PENDING]
        message = WebhookMessage.objects.get()
        first_wait = message.next_attempt_at - WebhookAttempt.objects.get().finished_at
        assert first_wait == services.RETRY_DELAYS[0]
        assert deliver_all() == []  # not due yet
        for _retry in range(2):
            WebhookMessage.objects.update(next_attempt_at=timezone.now())  # the wait has passed
            deliver_all()
    message.refresh_from_db()
    assert message.status == WebhookMessage.Status.DELIVERED and message.attempts == 3
    assert {r["headers"]["webhook-id"] for r in receiver.requests} == {message.webhook_id}
    secret = WebhookEndpoint.objects.get().secret
    for request in receiver.requests:  # each attempt signed with its own timestamp
        Webhook(secret).verify(request["body"], {k.lower(): v for k, v in request["headers"].items()})
    assert [a.response_status for a in WebhookAttempt.objects.order_by("number")] == [500, 503, 200]
    endpoint_row = WebhookEndpoint.objects.get()
    assert endpoint_row.failing_since is None  # the success ended the streak


def test_the_backoff_lasts_about_three_days_then_gives_up():
    total = sum(services.RETRY_DELAYS, datetime.timedelta())
    assert datetime.timedelta(days=2.5) < total < datetime.timedelta(days=3.5)
    assert all(b >= a for a, b in zip(services.RETRY_DELAYS, services.RETRY_DELAYS[1:], strict=False))


def test_a_message_is_given_up_after_its_last_retry_and_can_be_redelivered(local_receivers, client, admin_user):
    with Receiver([500]) as receiver:
        endpoint(receiver.url)
        emit()
        services.webhooks_dispatch()
        WebhookMessage.objects.update(attempts=len(services.RETRY_DELAYS))
        assert deliver_all() == [WebhookMessage.Status.FAILED]
        message = WebhookMessage.objects.get()
        assert message.next_attempt_at is None
        receiver.answers = [200]
        client.force_login(admin_user)
        response = client.post(
            "/admin/integrations/webhookmessage/",
            {"action": "redeliver", "_selected_action": [message.pk]},
        )
        assert response.status_code == 302
        assert deliver_all() == [WebhookMessage.Status.DELIVERED]
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [message.webhook_id] * 2


def test_a_day_of_failures_switches_the_endpoint_off_and_mails_its_owner_once(
    local_receivers, django_capture_on_commit_callbacks
):
    with Receiver([500]) as receiver:
        hook = endpoint(receiver.url)
        emit()
        emit()
        assert deliver_all() == [WebhookMessage.Status.PENDING] * 2
        hook.refresh_from_db()
        assert hook.failing_since is not None and hook.active
        WebhookEndpoint.objects.update(failing_since=timezone.now() - datetime.timedelta(hours=24, minutes=1))
        WebhookMessage.objects.update(next_attempt_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):  # the mail goes after commit
            deliver_all()
    hook.refresh_from_db()
    assert not hook.active and hook.disabled_at is not None and "500" in hook.disabled_reason
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@example.gov.vn"] and hook.name in mail.outbox[0].subject
    assert services.due_messages() == []  # its messages wait
    assert WebhookMessage.objects.filter(status=WebhookMessage.Status.PENDING).count() == 2


def test_the_address_is_checked_again_at_delivery(local_receivers, settings):
    with Receiver([200]) as receiver:
        endpoint(receiver.url)
        emit()
        settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False  # e.g. the host's DNS now answers a private address
        assert deliver_all() == [WebhookMessage.Status.PENDING]
    assert receiver.requests == []
    assert WebhookAttempt.objects.get().error.startswith("refused: private_address")


def test_two_workers_given_the_same_message_send_it_once(local_receivers):
    with Receiver([200]) as receiver:
        endpoint(receiver.url)
        emit()
        services.webhooks_dispatch()
        (pk,) = services.due_messages()
        assert services.webhook_deliver(message_id=pk) == WebhookMessage.Status.DELIVERED
        assert services.webhook_deliver(message_id=pk) is None
    assert len(receiver.requests) == 1
