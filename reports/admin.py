from django.contrib import admin

from reports.models import ApiClient, DailyReport, LockException, ReportRevision


@admin.register(DailyReport)
class DailyReportAdmin(admin.ModelAdmin):
    list_display = [
        "locality",
        "date",
        "province",
        "received_online",
        "received_direct",
        "late",
        "revision",
        "received_at",
    ]
    list_filter = ["late", "province"]
    search_fields = ["locality", "receipt"]
    date_hierarchy = "date"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReportRevision)
class ReportRevisionAdmin(admin.ModelAdmin):
    list_display = ["report", "number", "created_at", "author", "client", "reason"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LockException)
class LockExceptionAdmin(admin.ModelAdmin):
    list_display = ["locality", "date", "granted_by", "granted_at", "reason"]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "province", "commune", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_prefix", "key_hash", "created_at", "created_by", "last_used_at", "revoked_at", "revoked_by"]
    raw_id_fields = ["commune"]
