"""Demo data of the operations desk (`make run`): two teams in Hà Nội and a central one, and incidents of Hà Nội
in every state — a couple past their times, escalated by the check that runs at the end — so the board lives;
and the systems' vendors, told of the escalated incidents of their systems.
Written through the services, at moments of the last days (the clock is moved, as the tests do), once. The
demo reports that asked for support have their incidents already (support.receivers); those the early-warning
demo answered are closed by the check (support.services.incidents_close_answered_requests)."""

import datetime
from unittest import mock

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from support import services
from support.models import Incident, IncidentCategory, Team, VendorNotice

PROVINCE = "01"


def _at(days_ago: int, hour: int) -> datetime.datetime:
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_current_timezone())


# The systems' owners or vendors (alerts.Contact, role `vendor`): told when an incident of their system is
# escalated. Names of the country's usual suppliers; addresses in the reserved demo domain (mail goes nowhere).
VENDORS = [
    (
        "national_portal",
        None,
        "VNPT — Cổng Dịch vụ công quốc gia (minh họa)",
        "dvcqg@vnpt.plan02-demo.example",
        "18001260",
    ),
    ("vneid", None, "Viettel — hỗ trợ VNeID (minh họa)", "vneid@viettel.plan02-demo.example", "18008098"),
    ("population_db", None, "CMC — Cơ sở dữ liệu dân cư (minh họa)", "dancu@cmc.plan02-demo.example", ""),
    ("document_management", None, "FPT — quản lý văn bản (minh họa)", "vanban@fpt.plan02-demo.example", ""),
    (
        "provincial_procedure_system",
        PROVINCE,
        "VNPT Hà Nội — hệ thống một cửa của tỉnh (minh họa)",
        "motcua@vnpt-hn.plan02-demo.example",
        "024 3942 0000",
    ),
]


def _vendors_ensure() -> None:
    from alerts.models import Contact

    for system, province, name, email, phone in VENDORS:
        Contact.objects.get_or_create(
            role=Contact.Role.VENDOR,
            system=system,
            email=email,
            defaults={"name": name, "phone": phone, "province_id": province},
        )


def demo_support_ensure(*, write=print) -> None:
    if Team.objects.exists() or Incident.objects.filter(report__isnull=True).exists():
        return
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=["province", "commune", "support"])}
    if len(users) < 3:
        write("operations desk demo: the demo users are missing — skipped")
        return
    clerk, officer, support = users["commune"], users["province"], users["support"]
    with transaction.atomic():
        _vendors_ensure()
        technical = Team.objects.create(name="Tổ kỹ thuật lưu động Hà Nội", province_id=PROVINCE, phone="024 3825 0000")
        technical.members.add(officer)
        technical.skills.set(IncidentCategory.objects.filter(pk__in=["network", "power", "equipment", "data_sync"]))
        procedures = Team.objects.create(name="Tổ hỗ trợ thủ tục Hà Nội", province_id=PROVINCE)
        procedures.skills.set(IncidentCategory.objects.filter(pk__in=["procedures_legal", "staff_skills"]))
        central = Team.objects.create(name="Tổ hỗ trợ trung ương", phone="1900 0000")
        central.members.add(support)
        central.skills.set(IncidentCategory.objects.all())

        def step(moment, call, **kwargs):
            with mock.patch.object(timezone, "now", return_value=moment):
                return call(**kwargs)

        def report(moment, actor, category, severity, text, system="", locality=None):
            return step(
                moment,
                services.incident_open,
                actor=actor,
                category=category,
                severity=severity,
                description=text,
                system=system,
                locality=locality,
            )

        # Open, fresh.
        report(_at(0, 8), clerk, "network", "degraded", "Đường truyền chập chờn tại bộ phận một cửa.")
        # Open and past its time to acknowledge: a breach.
        report(_at(3, 9), clerk, "vneid", "blocking", "Không xác thực được tài khoản VNeID của công dân.", "vneid")
        # Acknowledged.
        a = report(_at(1, 10), officer, "equipment", "degraded", "Máy quét hỏng.", locality="00008")
        step(_at(1, 11), services.incident_acknowledge, incident=a, actor=officer)
        # In progress with a team, past its time to resolve.
        b = report(
            _at(4, 9),
            clerk,
            "provincial_procedure_system",
            "blocking",
            "Hệ thống một cửa của tỉnh không nhận hồ sơ.",
            "provincial_procedure_system",
        )
        step(_at(4, 10), services.incident_assign, incident=b, actor=officer, team=technical.pk)
        step(_at(4, 11), services.incident_comment, incident=b, actor=clerk, text="Vẫn chưa nhận được hồ sơ.")
        # Escalated by the province.
        c = report(_at(2, 14), officer, "digital_signature", "degraded", "Chứng thư số của cán bộ hết hạn.")
        step(_at(2, 15), services.incident_escalate, incident=c, actor=officer, reason="Cần Ban Cơ yếu hỗ trợ.")
        # Resolved, waiting for the commune's confirmation.
        d = report(_at(1, 8), clerk, "power", "blocking", "Mất điện cả buổi sáng.")
        step(_at(1, 9), services.incident_resolve, incident=d, actor=officer, resolution="Đã có máy phát dự phòng.")
        # Closed.
        e = report(_at(6, 9), clerk, "staff_skills", "question", "Cách ký số hồ sơ trên Cổng?")
        step(_at(6, 10), services.incident_assign, incident=e, actor=officer, team=procedures.pk)
        step(_at(6, 14), services.incident_resolve, incident=e, actor=officer, resolution="Đã hướng dẫn trực tiếp.")
        step(_at(5, 9), services.incident_close, incident=e, actor=clerk)
    services.incidents_check(trigger="demo")
    write(
        f"operations desk demo: 3 teams, {Incident.objects.count()} incidents "
        f"({Incident.objects.filter(report__isnull=False).count()} from the reports asking for support), "
        f"{Incident.objects.filter(escalated=True).count()} escalated, "
        f"{len(VENDORS)} system vendors ({VendorNotice.objects.count()} told)"
    )
