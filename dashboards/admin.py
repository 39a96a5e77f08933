from django.contrib import admin
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.readonly_admin import ReadOnlyAdmin
from dashboards import cache as dashboard_cache
from dashboards.models import RollupAlarm, SnapshotRequest, Target, WeeklyPackMailing


@admin.register(RollupAlarm)
class RollupAlarmAdmin(admin.ModelAdmin):
    """Disagreements found by the nightly verification (already repaired); an admin marks them resolved."""

    list_display = ["created_at", "date", "province", "resolved_at"]
    list_filter = ["resolved_at"]
    readonly_fields = ["created_at", "date", "province", "differences"]
    actions = ["mark_resolved"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Mark as resolved"))
    def mark_resolved(self, request, queryset):
        now = timezone.now()
        for alarm in queryset.filter(resolved_at__isnull=True):  # one save each: the audit trail records who
            alarm.resolved_at = now
            alarm.save(update_fields=["resolved_at"])
        transaction.on_commit(dashboard_cache.invalidate)  # the admins' pages count the open alarms


@admin.register(SnapshotRequest)
class SnapshotRequestAdmin(admin.ModelAdmin):
    """Task snapshots waiting for the worker (or for the catch-up job, if the broker was down)."""

    list_display = ["date", "requested_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    """The plan's targets, loaded by load_reference; their wording, values and deadlines are edited here
    (every change is in the audit trail, field by field)."""

    list_display = ["code", "title_vi", "target_value", "comparison", "deadline", "level", "method", "agency"]
    list_filter = ["level", "method"]
    search_fields = ["code", "title_vi", "title_en"]


@admin.register(WeeklyPackMailing)
class WeeklyPackMailingAdmin(ReadOnlyAdmin):
    """One row per ISO week: whether the steering committee's pack went out."""

    list_display = ["iso_year", "iso_week", "as_of", "status", "recipients", "sent_at", "error"]
