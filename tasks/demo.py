"""Demo users of DESIGN.md §2, one per role, with fixed usernames."""

import secrets

from django.contrib.auth import get_user_model
from django.db import transaction

from localities.models import Commune, Province
from tasks.models import Agency, Membership, Role

# username -> (role, unit kind, unit code, full name)
DEMO_USERS = {
    "admin": (Role.ADMIN, None, None, "Quản trị quốc gia"),
    "steering": (Role.STEERING, None, None, "Thành viên Ban Chỉ đạo"),
    "inspector": (Role.INSPECTOR, None, None, "Cán bộ kiểm tra"),
    "agency": (Role.AGENCY_OFFICER, "agency", "BCA", "Cán bộ Bộ Công an"),
    "province": (Role.PROVINCE_OFFICER, "province", "01", "Cán bộ Thành phố Hà Nội"),
    "commune": (Role.COMMUNE_CLERK, "commune", "00004", "Công chức Phường Ba Đình"),
}


@transaction.atomic
def demo_users_ensure(*, password=None):
    """Create the demo users that are missing. Existing users are left as they are (password included).

    Returns (created usernames, the password used — generated when none was given — or None)."""
    User = get_user_model()
    missing = [name for name in DEMO_USERS if not User.objects.filter(username=name).exists()]
    if not missing:
        return [], None
    password = password or secrets.token_urlsafe(12)
    for username in missing:
        role, kind, code, full_name = DEMO_USERS[username]
        first, _, last = full_name.partition(" ")
        user = User.objects.create_user(
            username=username,
            password=password,
            first_name=first,
            last_name=last,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        unit = {}
        if kind == "agency":
            unit["agency"] = Agency.objects.get(code=code)
        elif kind == "province":
            unit["province"] = Province.objects.get(code=code)
        elif kind == "commune":
            unit["commune"] = Commune.objects.get(code=code)
        Membership.objects.create(user=user, role=role, **unit)
    return missing, password
