"""In-portal notifications and e-mail digests: one digest per person per run, in their language, sent at most
once, retried when the send failed, switched off per rule."""

import datetime

import pytest
from django.core import mail

from alerts.models import Digest, Notification
from alerts.services.delivery import digest_requeue, digests_send
from alerts.services.notifications import preference_update
from tests.alerts.mailers import FlakyBackend
from tests.reports.factories import make_report

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reliable_mail():
    FlakyBackend.failures = 0


@pytest.fixture
def support_for(today):
    def make(*localities):
        return [make_report(code, today - datetime.timedelta(days=1), support_needed=True) for code in localities]

    return make


def test_a_digest_is_written_in_the_persons_language_as_text_and_html(run, province_officer, email, support_for):
    email(province_officer)
    support_for("00004")
    run(rules=["support_needed"])
    digests_send()
    (vi,) = mail.outbox  # no preference: Vietnamese, the portal's language
    assert vi.extra_headers["Content-Language"] == "vi"
    assert vi.subject.startswith("[plan02] 1 cảnh báo mới")
    assert "Đề nghị hỗ trợ trong báo cáo ngày" in vi.body and "Phường Ba Đình (00004)" in vi.body
    html, kind = vi.alternatives[0]
    assert kind == "text/html" and '<html lang="vi">' in html
    assert 'href="http://127.0.0.1:8000/alerts/support/' in html and "/alerts/preferences/" in html

    preference_update(user=province_officer, language="en", email_off=[])
    support_for("00008")
    run(rules=["support_needed"])
    digests_send()
    en = mail.outbox[-1]
    assert en.extra_headers["Content-Language"] == "en"
    assert en.subject.startswith("[plan02] 1 new alert")
    assert "The Plan 02 portal raised 1 new alert for you" in en.body
    assert "Support requested in the report of" in en.body and "Phường Ngọc Hà (00008)" in en.body


def test_digest_lines_are_grouped_by_rule_and_capped(run, quiet, today, agency_officer, province_officer, email):
    from tests.alerts.conftest import assignment, history, local
    from tests.tasks.conftest import set_deadline

    email(agency_officer)
    preference_update(user=agency_officer, language="en", email_off=[])
    set_deadline("T22", -15)  # 34 provinces overdue for 15 days: escalated to BCA, which leads T22
    history(
        assignment("T29", province="01"),
        province_officer,
        [(local(today - datetime.timedelta(days=2), 9), "blocked", 10, "BCA")],
    )
    run()
    digests_send()
    (message,) = mail.outbox
    body = message.body
    assert message.subject.startswith("[plan02] 35 new alerts")
    assert body.index("Overdue") < body.index("Blocked by an agency")  # the rules' order
    assert body.count("for the lead agency: T22") == 20
    assert "… and 14 more: http://127.0.0.1:8000/alerts/?rule=overdue&open=true" in body


def test_switching_off_a_rule_stops_its_email_but_not_the_notification(run, province_officer, email, support_for):
    email(province_officer)
    preference_update(user=province_officer, language="vi", email_off=["support_needed"])
    support_for("00004")
    result = run(rules=["support_needed"])
    assert (result.notifications, result.digests) == (1, 0)
    assert Notification.objects.filter(user=province_officer).count() == 1
    assert digests_send().sent == 0 and mail.outbox == []


def test_a_head_without_a_portal_account_is_mailed(run, quiet, head):
    from tests.tasks.conftest import set_deadline

    head("province", "01", "head.hanoi@example.org")
    set_deadline("T22", -2)
    result = run(rules=["overdue"])
    assert result.digests == 1 and result.notifications == 0
    digests_send()
    assert [m.to for m in mail.outbox] == [["head.hanoi@example.org"]]


def test_a_user_who_is_also_a_head_gets_one_digest(run, quiet, province_officer, email, head):
    from tests.tasks.conftest import set_deadline

    email(province_officer, "lanh.dao@example.org")
    head("province", "01", "Lanh.Dao@example.org")
    set_deadline("T22", -2)
    assert run(rules=["overdue"]).digests == 1
    digests_send()
    assert [m.to for m in mail.outbox] == [["lanh.dao@example.org"]]


def test_a_failed_send_is_retried_and_never_sent_twice_once_it_has_gone(
    run, settings, province_officer, steering, email, support_for
):
    settings.EMAIL_BACKEND = "tests.alerts.mailers.FlakyBackend"
    email(province_officer)
    support_for("00004")
    run(rules=["support_needed"])
    FlakyBackend.failures = 1
    assert digests_send().failed == 1
    digest = Digest.objects.get()
    assert (digest.status, digest.attempts, mail.outbox) == ("pending", 1, [])
    assert "Connection unexpectedly closed" in digest.last_error
    assert digests_send().sent == 1  # the retry (the next run, or the beat's retry job)
    assert digests_send().sent == 0  # sent: never again
    assert len(mail.outbox) == 1
    digest.refresh_from_db()
    assert (digest.status, digest.attempts) == ("sent", 2)


def test_a_server_that_cannot_be_reached_leaves_every_digest_pending(
    run, settings, province_officer, email, support_for
):
    settings.EMAIL_BACKEND = "tests.alerts.mailers.UnreachableBackend"
    email(province_officer)
    support_for("00004")
    run(rules=["support_needed"])
    assert digests_send().failed == 1
    assert Digest.objects.get().status == "pending"


def test_sending_gives_up_after_the_last_attempt(run, settings, province_officer, email, support_for):
    settings.EMAIL_BACKEND = "tests.alerts.mailers.FlakyBackend"
    settings.ALERTS_DIGEST_MAX_ATTEMPTS = 2
    email(province_officer)
    support_for("00004")
    run(rules=["support_needed"])
    FlakyBackend.failures = 5
    digests_send()
    digests_send()
    FlakyBackend.failures = 0
    assert Digest.objects.get().status == "failed"
    assert digests_send().sent == 0


def test_a_digest_left_sending_by_a_dead_sender_is_not_resent_until_an_admin_says_so(
    run, province_officer, email, support_for
):
    email(province_officer)
    support_for("00004")
    run(rules=["support_needed"])
    Digest.objects.update(status="sending", claim="a-sender-that-died")  # claimed, then the worker was killed
    assert digests_send().sent == 0 and mail.outbox == []
    digest_requeue(digest_ids=Digest.objects.values_list("pk", flat=True))
    assert digests_send().sent == 1


def test_two_senders_never_send_the_same_digest(run, province_officer, email, support_for, monkeypatch):
    """The second sender starts while the first holds its claim: it finds nothing pending to take."""
    from alerts import digests as digest_module

    email(province_officer)
    support_for("00004")
    run(rules=["support_needed"])
    render = digest_module.message
    seen = []

    def message_while_another_sender_runs(*args, **kwargs):
        seen.append(digests_send())  # a second sender, in the middle of the first one's send
        return render(*args, **kwargs)

    monkeypatch.setattr(digest_module, "message", message_while_another_sender_runs)
    assert digests_send().sent == 1
    assert [(r.sent, r.failed) for r in seen] == [(0, 0)]
    assert len(mail.outbox) == 1


def test_sending_costs_the_same_queries_whatever_a_digest_holds(
    run, quiet, province_officer, email, support_for, django_assert_num_queries
):
    email(province_officer)
    for localities in (("00004", "00008"), ("00025", "00070", "00082", "00091", "00097", "00103")):
        support_for(*localities)
        run(rules=["support_needed"])
        # lock and claim (2), the claimed digests, their alerts with every join, one "sent" per digest
        with django_assert_num_queries(7):
            assert digests_send().sent == 1
