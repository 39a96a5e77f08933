"""Which records django-auditlog keeps field by field, and what it never keeps.

Registered here, in the project's top layer, so the apps need not know about the audit trail. Secrets are
excluded, not masked (a masked value keeps half of it): a user's password hash and an API key's hash never
reach the trail. Fields that change without anyone editing them (last login, timestamps kept by the model)
are left out too, so a login or a save that changes nothing leaves no entry, and so are the other models'
links to a record (auditlog would list "assignments" of a task it creates: the related manager, not data).
"""

from typing import Any

from auditlog.registry import auditlog
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from alerts.models import Contact
from dashboards.models import RollupAlarm, Target
from localities.models import Commune, Province
from reports.models import ApiClient, LockException
from tasks.models import Agency, Membership, Phase, Task, TaskGroup

# Never recorded, whatever the model: the trail is read by inspectors, and an audit table is copied into
# backups and exports.
SECRET_FIELDS = {"password", "key_hash"}


def register_audited_models() -> None:
    """Called once by plan02's AppConfig.ready()."""
    user = get_user_model()
    audited: list[tuple[Any, dict[str, Any]]] = [
        # Who may log in and with which rights; groups and permissions are many-to-many.
        (user, {"exclude_fields": ["password", "last_login"], "m2m_fields": {"groups", "user_permissions"}}),
        (Group, {"m2m_fields": {"permissions"}}),
        # Roles and units: changed in the admin, the model keeps no actor of its own.
        (Membership, {"exclude_fields": ["created_at"]}),
        (Agency, {}),
        (Phase, {}),
        (TaskGroup, {}),
        (Task, {"exclude_fields": ["created_at", "updated_at"], "m2m_fields": {"coordinating_agencies"}}),
        # Issued and revoked keys are events of their own (trail); this records edits and deletions.
        (ApiClient, {"exclude_fields": ["key_hash", "last_used_at"]}),
        (LockException, {}),
        (Target, {}),
        # Marked resolved by an admin: who and when.
        (RollupAlarm, {}),
        (Province, {}),
        (Commune, {}),
        # Accountable heads and focal points, edited in the admin (an import has its own audit row).
        (Contact, {"exclude_fields": ["updated_at"]}),
    ]
    for model, options in audited:
        if auditlog.contains(model):
            continue
        fields = model._meta.get_fields()
        excluded = set(options.get("exclude_fields", []))
        missing = SECRET_FIELDS & ({f.name for f in fields} - excluded)
        assert not missing, f"{model.__name__}: {sorted(missing)} must be excluded from the audit trail"
        reverse = {f.name for f in fields if f.auto_created and not f.concrete}
        auditlog.register(model, **{**options, "exclude_fields": sorted(excluded | reverse)})


def audited_models() -> list[type]:
    """The models whose record changes the trail shows field by field."""
    return list(auditlog.get_models())
