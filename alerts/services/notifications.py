"""A person's notifications (the bell) and e-mail preferences."""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts import specs
from alerts.models import Language, Notification, Preference
from core import pagecache


def bells_changed() -> None:
    """Whole pages kept for sessions (core.pagecache) carry the bell: after commit, none of them is used again."""
    transaction.on_commit(pagecache.viewers_changed)


def notification_mark_read(*, notification: Notification, user: Any) -> bool:
    """Mark one of the user's notifications read. True when it was unread."""
    if notification.user_id != user.pk:
        raise PermissionDenied(_("This notification is not yours."))
    now = timezone.now()
    changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    if changed:
        notification.read_at = now
        bells_changed()
    return bool(changed)


def notifications_mark_all_read(*, user: Any) -> int:
    marked = Notification.objects.filter(user_id=user.pk, read_at__isnull=True).update(read_at=timezone.now())
    if marked:
        bells_changed()
    return marked


def preference_update(*, user: Any, language: str, email_off: Iterable[str]) -> Preference:
    """The user's e-mail language and the rules they want no e-mail for (in-portal notifications stay)."""
    off = sorted(set(email_off))
    errors = {}
    if language not in Language.values:
        errors["language"] = ValidationError(_("Choose Vietnamese or English."), code="invalid_choice")
    known = set(specs.codes())
    unknown = [rule for rule in off if rule not in known]
    if unknown:
        errors["email_off"] = ValidationError(
            _("Unknown rule: %(rules)s."), code="invalid_choice", params={"rules": ", ".join(unknown)}
        )
    if errors:
        raise ValidationError(errors)
    preference, _created = Preference.objects.update_or_create(
        user=user, defaults={"language": language, "email_off": off}
    )
    return preference
