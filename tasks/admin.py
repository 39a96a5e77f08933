from django.contrib import admin

from core.readonly_admin import ReadOnlyAdmin
from tasks.models import (
    Agency,
    Assignment,
    CatalogueImport,
    Membership,
    Phase,
    StatusUpdate,
    Task,
    TaskGroup,
    Vendor,
    WorkingGroup,
)


@admin.register(TaskGroup)
class TaskGroupAdmin(admin.ModelAdmin):
    list_display = ["number", "name_vi", "name_en", "is_pillar"]


@admin.register(Phase)
class PhaseAdmin(admin.ModelAdmin):
    list_display = ["code", "name_vi", "name_en", "starts_on", "deadline"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name_vi", "name_en", "kind", "source"]
    list_filter = ["kind", "source"]
    search_fields = ["code", "name_vi", "name_en"]


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(WorkingGroup)
class WorkingGroupAdmin(admin.ModelAdmin):
    list_display = ["number", "name_vi", "name_en", "source"]
    filter_horizontal = ["task_groups"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["code", "title_vi", "group", "phase", "deadline", "level", "lead_agency", "is_official"]
    list_filter = ["group", "phase", "level", "is_official", "lead_agency"]
    search_fields = ["code", "title_vi", "title_en"]
    filter_horizontal = ["coordinating_agencies"]
    list_select_related = ["group", "phase", "lead_agency"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    """Assignments change through the portal's update form (which writes the history), not here."""

    list_display = ["task", "level", "agency", "province", "commune", "status", "progress", "version", "updated_at"]
    list_filter = ["level", "status", "task__phase"]
    search_fields = ["task__code", "commune__name", "province__name", "agency__code"]
    list_select_related = ["task", "agency", "province", "commune"]
    raw_id_fields = ["task", "commune", "province"]
    readonly_fields = [
        "task",
        "level",
        "agency",
        "province",
        "commune",
        "status",
        "progress",
        "completed_on",
        "blocked_by",
        "blocked_by_province",
        "blocked_by_vendor",
        "blocked_by_system",
        "blocked_reason",
        "version",
        "updated_at",
        "updated_by",
    ]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "agency", "province", "commune", "working_group"]
    list_filter = ["role", "working_group"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    raw_id_fields = ["user", "commune"]


@admin.register(CatalogueImport)
class CatalogueImportAdmin(admin.ModelAdmin):
    list_display = ["filename", "imported_at", "imported_by", "created", "updated", "unchanged"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StatusUpdate)
class StatusUpdateAdmin(ReadOnlyAdmin):
    """History is append-only: the admin shows it and nothing else, for every user, superusers included."""

    list_display = ["assignment", "created_at", "actor", "old_status", "new_status", "old_progress", "new_progress"]
    list_select_related = ["assignment__task", "actor"]
    show_full_result_count = False
