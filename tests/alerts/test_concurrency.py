"""Two runs at once on two PostgreSQL connections (two workers, or a retry while the first still runs), and two
senders at once: nothing is raised twice, nobody is told twice, no e-mail goes twice. SQLite lets one writer in
at a time, so the race only exists on PostgreSQL."""

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection

from alerts.models import Alert, Digest, DigestItem, Notification
from alerts.services.delivery import digests_send
from alerts.services.runs import alerts_run
from tasks.models import Role, Task
from tests.conftest import make_user
from tests.reports.factories import make_report

# Two real PostgreSQL connections (tests.conftest.postgresql: skipped without them, a failure in CI).
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def at_once(target, count=2):
    """Run `target` in `count` threads, each on its own connection; return their results, re-raise errors."""
    results, errors = [None] * count, []

    def work(index):
        try:
            results[index] = target()
        except Exception as exc:  # reported below: the test fails with it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results


def test_two_runs_at_once_raise_tell_and_mail_each_alert_once(postgresql, reference_data, monkeypatch, today):
    officer = make_user("officer-hanoi", Role.PROVINCE_OFFICER, province="01")
    lead = make_user("officer-bca", Role.AGENCY_OFFICER, agency="BCA")
    for user in (officer, lead):
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    Task.objects.update(deadline=today + datetime.timedelta(days=200))
    Task.objects.filter(code="T22").update(deadline=today - datetime.timedelta(days=15))  # 34 × overdue at 0 and 14
    for code in ("00004", "00008", "00025"):
        make_report(code, today - datetime.timedelta(days=1), support_needed=True)

    # Both runs read the state and the open alerts before either inserts, then insert the same alerts at once:
    # the second insert waits for the first transaction and skips every row it finds there.
    barrier = threading.Barrier(2)
    insert = Alert.objects.bulk_create

    def insert_together(*args, **kwargs):
        barrier.wait(timeout=60)
        return insert(*args, **kwargs)

    monkeypatch.setattr(Alert.objects, "bulk_create", insert_together)
    rules = ["overdue", "support_needed"]
    first, second = at_once(lambda: alerts_run(rules=rules, trigger="worker"))

    assert Alert.objects.count() == 34 * 2 + 3
    assert first.raised + second.raised == Alert.objects.count()  # each alert inserted by exactly one run
    assert set(Alert.objects.values_list("run_id", flat=True)) <= {first.run.pk, second.run.pk}
    assert Notification.objects.filter(user=officer).count() == 1 + 3  # Hà Nội's overdue T22, 3 requests
    assert Notification.objects.filter(user=lead).count() == 34  # the escalations to the lead agency
    items = list(DigestItem.objects.values_list("email", "alert_id"))
    assert len(items) == len(set(items)) == 4 + 34

    # Two senders at once: each digest is claimed by one of them.
    sent = at_once(digests_send)
    assert sum(r.sent for r in sent) == Digest.objects.count() == len(mail.outbox)
    assert set(Digest.objects.values_list("status", flat=True)) == {"sent"}
    mailed = [(m.to[0], int(m.extra_headers["X-plan02-digest"])) for m in mail.outbox]
    assert len(mailed) == len(set(mailed))
    # And again, both at once: nothing new, nothing sent.
    monkeypatch.setattr(Alert.objects, "bulk_create", insert)
    again = at_once(lambda: alerts_run(rules=rules, trigger="worker"))
    assert [r.raised for r in again] == [0, 0]
    assert [r.sent for r in at_once(digests_send)] == [0, 0]
