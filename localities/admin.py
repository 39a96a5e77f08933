from django.contrib import admin

from localities.models import Commune, DataVersion, Province


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "division_type", "phone_code", "data_version"]
    search_fields = ["code", "name", "codename"]
    list_filter = ["division_type"]


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "division_type", "province", "data_version"]
    search_fields = ["code", "name", "codename"]
    list_filter = ["division_type", "province"]
    list_select_related = ["province"]


@admin.register(DataVersion)
class DataVersionAdmin(admin.ModelAdmin):
    list_display = ["dataset", "version", "loaded_at", "summary"]
    readonly_fields = ["dataset", "version", "checksum", "loaded_at", "summary"]

    def has_add_permission(self, request):
        return False
