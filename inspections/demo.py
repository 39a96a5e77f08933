"""Demo data of the inspections (`make run`): an inspection of Hà Nội, Phường Ba Đình and the Ministry of
Public Security by the demo inspector, with findings whose follow-up items are under way. Once."""

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from inspections.models import Inspection
from inspections.services import finding_create, followup_update, inspection_create
from tasks.scoping import scope_for_user

DEMO_TITLE = "Kiểm tra việc triển khai Kế hoạch 02 tại Hà Nội (demo)"


def demo_inspection_ensure(*, write=print) -> None:
    User = get_user_model()
    inspector = User.objects.filter(username="inspector").first()
    if inspector is None or Inspection.objects.filter(title=DEMO_TITLE).exists():
        return
    today = timezone.localdate()
    scope = scope_for_user(inspector)
    with transaction.atomic():
        inspection = inspection_create(
            scope=scope,
            actor=inspector,
            title=DEMO_TITLE,
            starts_on=today - datetime.timedelta(days=20),
            ends_on=today - datetime.timedelta(days=10),
            provinces=["01"],
            agencies=["BCA"],
            communes=["00004"],
            tasks=["T18", "T30"],
        )
        findings = [
            ("01", "high", "Chưa công khai danh mục thủ tục trực tuyến toàn trình.", "Công khai trước hạn.", 10),
            ("00004", "medium", "Bộ phận một cửa thiếu máy quét.", "Trang bị máy quét.", -3),
            ("BCA", "low", "Chưa thống nhất mẫu báo cáo kết nối dữ liệu dân cư.", "Ban hành mẫu báo cáo.", 30),
        ]
        for index, (unit, severity, text, recommendation, days) in enumerate(findings):
            finding = finding_create(
                scope=scope,
                actor=inspector,
                inspection=inspection,
                unit=unit,
                visited_on=today - datetime.timedelta(days=15 - index),
                text=text,
                severity=severity,
                recommendation=recommendation,
                deadline=today + datetime.timedelta(days=days),
            )
            actor = User.objects.filter(username={"01": "province", "00004": "commune"}.get(unit, "agency")).first()
            if actor is not None and index < 2:
                followup_update(
                    followup=finding.followup, actor=actor, version=1, status="in_progress", progress=30, note="Demo"
                )
    write(f"demo inspection created: {DEMO_TITLE}")
