"""The closed list of incident categories of DESIGN.md §12, as data (names editable in the admin)."""

from django.db import migrations

CATEGORIES = [
    ("network", "Mạng, đường truyền", "Network and connectivity"),
    ("power", "Mất điện, nguồn điện", "Power supply"),
    ("equipment", "Trang thiết bị", "Equipment"),
    ("digital_signature", "Chữ ký số", "Digital signature"),
    ("national_portal", "Cổng Dịch vụ công quốc gia", "National Public Service Portal"),
    (
        "provincial_procedure_system",
        "Hệ thống thông tin giải quyết thủ tục hành chính cấp tỉnh",
        "Provincial administrative-procedure system",
    ),
    ("vneid", "VNeID", "VNeID"),
    ("population_db", "Cơ sở dữ liệu quốc gia về dân cư", "National population database"),
    ("document_management", "Hệ thống quản lý văn bản", "Document management system"),
    ("data_sync", "Đồng bộ, kết nối dữ liệu", "Data synchronisation"),
    ("staff_skills", "Kỹ năng của cán bộ", "Staff skills"),
    ("procedures_legal", "Thủ tục, vướng mắc pháp lý", "Procedures and legal questions"),
    ("other", "Khác", "Other"),
]


def load(apps, schema_editor):
    Category = apps.get_model("support", "IncidentCategory")
    for position, (code, name_vi, name_en) in enumerate(CATEGORIES, start=1):
        Category.objects.update_or_create(
            code=code, defaults={"name_vi": name_vi, "name_en": name_en, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("support", "0002_history_append_only")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
