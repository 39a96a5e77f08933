from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from core.readonly_admin import ReadOnlyAdmin
from reports.models import (
    ApiClient,
    DailyReport,
    FormIndicator,
    FormRate,
    FormRule,
    FormVersion,
    LockException,
    ReportForm,
    ReportRevision,
    RollupRequest,
)
from reports.services import api_client_issue, api_client_revoke


@admin.register(DailyReport)
class DailyReportAdmin(ReadOnlyAdmin):  # reports are never deleted (no delete view, no delete action)
    list_display = [
        "locality",
        "date",
        "province",
        "form_version",
        "late",
        "revision",
        "received_at",
    ]
    list_filter = ["late", "province"]
    list_select_related = ["form_version"]
    search_fields = ["locality", "receipt"]
    date_hierarchy = "date"
    show_full_result_count = False


# --- report forms (DESIGN.md §11): read only; a version is made by `manage.py import_form`, never edited -----


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FormVersionInline(_ReadOnlyInline):
    model = FormVersion
    fields = ["number", "status", "effective_from", "title_vi", "imported_at", "imported_by", "source_file"]
    show_change_link = True


class FormIndicatorInline(_ReadOnlyInline):
    model = FormIndicator
    fields = [
        "order",
        "code",
        "series",
        "label_vi",
        "label_en",
        "type",
        "unit",
        "minimum",
        "maximum",
        "required",
        "aggregation",
        "section",
        "choices",
    ]


class FormRuleInline(_ReadOnlyInline):
    model = FormRule
    fields = ["order", "code", "kind", "left", "op", "right", "field", "severity", "message_vi", "message_en"]


class FormRateInline(_ReadOnlyInline):
    model = FormRate
    fields = ["order", "code", "numerator", "denominator", "label_vi", "label_en"]


@admin.register(ReportForm)
class ReportFormAdmin(ReadOnlyAdmin):
    list_display = ["code", "title_vi", "title_en", "status"]
    inlines = [FormVersionInline]


@admin.register(FormVersion)
class FormVersionAdmin(ReadOnlyAdmin):
    list_display = ["form", "number", "status", "effective_from", "imported_at", "imported_by", "source_file"]
    list_filter = ["form", "status"]
    list_select_related = ["form"]
    inlines = [FormIndicatorInline, FormRuleInline, FormRateInline]


@admin.register(ReportRevision)
class ReportRevisionAdmin(ReadOnlyAdmin):
    list_display = ["report", "number", "created_at", "author", "client", "reason"]
    show_full_result_count = False


@admin.register(LockException)
class LockExceptionAdmin(admin.ModelAdmin):
    """Who granted an exception is the admin who saves it, never a name picked from a list (the audit
    trail shows the grant under granted_by; later edits appear there field by field)."""

    list_display = ["locality", "date", "granted_by", "granted_at", "reason"]
    readonly_fields = ["granted_by", "granted_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)


class ApiClientIssueForm(forms.Form):
    name = forms.CharField(label=_("name of the system or clerk"), max_length=200)
    kind = forms.ChoiceField(
        label=_("kind"), choices=ApiClient.Kind.choices, initial=ApiClient.Kind.LOCALITY, required=False
    )
    locality = forms.CharField(
        label=_("locality code"),
        max_length=5,
        required=False,
        help_text=_("A commune (5 digits, e.g. 00004) or a province (01); empty for a national key."),
    )


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Keys are issued through api_client_issue (the key is shown once, on the response page) and revoked
    with the action; nothing else about a key can be edited."""

    list_display = ["name", "kind", "province", "commune", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["kind", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "key_prefix", "commune__code", "province__code"]
    readonly_fields = [
        "kind",
        "province",
        "commune",
        "key_prefix",
        "key_hash",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    actions = ["revoke_keys"]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiClientIssueForm(request.POST or None)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form}
        if request.method == "POST" and form.is_valid():
            try:
                client, key = api_client_issue(
                    name=form.cleaned_data["name"],
                    locality=form.cleaned_data["locality"],
                    kind=form.cleaned_data["kind"] or ApiClient.Kind.LOCALITY,
                    created_by=request.user,
                )
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, " ".join(getattr(exc, "messages", [str(exc)])))
            else:
                response = TemplateResponse(
                    request, "reports/admin/key_issued.html", {**context, "client": client, "key": key}
                )
                response["Cache-Control"] = "no-store"
                return response
        return TemplateResponse(request, "reports/admin/issue_key.html", context)

    @admin.action(description=_("Revoke the selected keys"))
    def revoke_keys(self, request, queryset):
        revoked = sum(api_client_revoke(client=client, revoked_by=request.user) for client in queryset)
        self.message_user(request, _("%(count)s key(s) revoked.") % {"count": revoked}, messages.SUCCESS)


@admin.register(RollupRequest)
class RollupRequestAdmin(admin.ModelAdmin):
    """The outbox: rebuilds waiting for the worker (or for the catch-up job, if the broker was down)."""

    list_display = ["province", "date", "requested_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
