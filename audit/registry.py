"""Which records django-auditlog keeps field by field, and what it never keeps: gathered from what each app
declares next to its models (core.trail.keep_changes), plus who may log in (users and groups, which belong to
no app of the portal's).

Secrets are excluded, not masked (a masked value keeps half of it): a user's password hash and an API key's
hash never reach the trail, and a declaration that would keep one is refused at start-up. Fields that change
without anyone editing them (last login, timestamps kept by the model) are left out by the declarations, so
a login or a save that changes nothing leaves no entry, and so are the other models' links to a record
(auditlog would list "assignments" of a task it creates: the related manager, not data).
"""

from typing import Any

from auditlog.registry import auditlog
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models

from core import trail

# Never recorded, whatever the model: the trail is read by inspectors, and an audit table is copied into
# backups and exports.
SECRET_FIELDS = {"password", "key_hash", "secret"}


def _accounts() -> list[trail.KeptModel]:
    """Who may log in and with which rights; groups and permissions are many-to-many."""
    return [
        trail.KeptModel(
            get_user_model(), exclude=("password", "last_login"), m2m=frozenset({"groups", "user_permissions"})
        ),
        trail.KeptModel(Group, m2m=frozenset({"permissions"})),
    ]


def auditlog_options(kept: trail.KeptModel) -> dict[str, Any]:
    """The options auditlog registers a kept model with; TrailError when a secret would be kept."""
    fields = kept.model._meta.get_fields()
    excluded = set(kept.exclude)
    missing = SECRET_FIELDS & ({f.name for f in fields} - excluded)
    if missing:
        raise trail.TrailError(f"{kept.model.__name__}: {sorted(missing)} must be excluded from the audit trail")
    reverse = {f.name for f in fields if f.auto_created and not f.concrete}
    options: dict[str, Any] = {"exclude_fields": sorted(excluded | reverse)}
    if kept.m2m:
        options["m2m_fields"] = set(kept.m2m)
    return options


def register_audited_models() -> None:
    """Called once by the audit app's ready(), after every app below it declared its models."""
    for kept in [*_accounts(), *trail.kept_models()]:
        if not auditlog.contains(kept.model):
            auditlog.register(kept.model, **auditlog_options(kept))


def audited_models() -> list[type[models.Model]]:
    """The models whose record changes the trail shows field by field."""
    return list(auditlog.get_models())


def created_by_own_event() -> list[str]:
    """`app_label.model` of the kept models whose creation is an event of its own source (a key issued)."""
    return [kept.model._meta.label_lower for kept in trail.kept_models() if kept.created_by_own_event]
