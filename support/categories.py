"""The closed list of incident categories of DESIGN.md §12: code, Vietnamese and English names. Loaded by the
data migration 0003 (and again by `categories_load()`, for databases emptied by a flush, as the tests' reference
data); names are edited in the admin afterwards, codes never change."""

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


def categories_load() -> int:
    """The categories that are missing (names already there are kept as edited). Returns how many it added."""
    from support.models import IncidentCategory

    existing = set(IncidentCategory.objects.values_list("pk", flat=True))
    missing = [
        IncidentCategory(code=code, name_vi=name_vi, name_en=name_en, position=position)
        for position, (code, name_vi, name_en) in enumerate(CATEGORIES, start=1)
        if code not in existing
    ]
    IncidentCategory.objects.bulk_create(missing)
    return len(missing)
