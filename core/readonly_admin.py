"""The admin of history the portal writes itself (status updates, reports, revisions, alerts…)."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Readable, never added, changed or deleted here, by anyone, superusers included."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
