from django.contrib import admin

from core.readonly_admin import ReadOnlyAdmin
from support.models import Incident, IncidentAttachment, IncidentCategory, IncidentEvent, Team


@admin.register(IncidentCategory)
class IncidentCategoryAdmin(admin.ModelAdmin):
    """The closed list of categories (DESIGN.md §12): names and order editable; a code is never deleted
    (incidents keep it), it is withdrawn by unticking `offered`."""

    list_display = ("code", "name_vi", "name_en", "position", "is_active")
    list_editable = ("position", "is_active")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "province", "phone", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "province__name")
    filter_horizontal = ("members", "skills")
    autocomplete_fields = ()


class EventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "actor", "action", "from_state", "to_state", "text", "version")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    """Incidents change through the desk's pages and API only (each step is history)."""

    list_display = ("pk", "category", "severity", "state", "province", "commune", "created_at", "escalated")
    list_filter = ("state", "severity", "category", "escalated")
    search_fields = ("description", "commune__code", "province__code")
    inlines = [EventInline]


@admin.register(IncidentAttachment)
class IncidentAttachmentAdmin(ReadOnlyAdmin):
    list_display = ("name", "incident", "size", "uploaded_by", "uploaded_at")
