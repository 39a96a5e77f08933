from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from alerts.contacts import plan_contacts
from alerts.models import (
    Alert,
    AlertRun,
    Contact,
    ContactImport,
    Digest,
    Notification,
    Preference,
    SupportResolution,
)
from alerts.selectors import units_without_head
from alerts.services.contacts import contacts_import
from alerts.services.delivery import digest_requeue
from core.readonly_admin import ReadOnlyAdmin
from core.spreadsheets import SpreadsheetError


class ContactImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_(
            "Columns: unit_kind, unit_code, role, name, title, email, phone, language (README, Early warning)."
        ),
    )
    apply = forms.BooleanField(label=_("write the changes (otherwise a dry run)"), required=False)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    """Heads and focal points, imported in bulk with `manage.py import_contacts` or the import page; the
    systems' vendors (role `vendor`, a system, national or one province's), kept here. The changelist links to
    the units that have no head (a finding in itself)."""

    list_display = [
        "name",
        "role",
        "system",
        "agency",
        "province",
        "commune",
        "vendor",
        "title",
        "email",
        "phone",
        "language",
    ]
    list_filter = [
        "role",
        "system",
        "language",
        ("agency", admin.EmptyFieldListFilter),
        ("commune", admin.EmptyFieldListFilter),
        ("vendor", admin.EmptyFieldListFilter),
    ]
    search_fields = ["name", "email", "agency__code", "province__code", "commune__code", "commune__name"]
    raw_id_fields = ["commune"]
    change_list_template = "alerts/admin/contact_changelist.html"

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="alerts_contact_import"),
            path(
                "without-head/", self.admin_site.admin_view(self.without_head_view), name="alerts_contact_without_head"
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        missing = units_without_head()
        counts = {kind: qs.count() for kind, qs in missing.items()}
        return super().changelist_view(request, {**(extra_context or {}), "without_head": counts})

    def without_head_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        missing = units_without_head()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "agencies": missing["agencies"],
            "provinces": missing["provinces"],
            "communes": Paginator(missing["communes"], 200).get_page(request.GET.get("page")),
        }
        return TemplateResponse(request, "alerts/admin/without_head.html", context)

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ContactImportForm(request.POST or None, request.FILES or None)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form}
        status = 200
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                plan = plan_contacts(upload, filename=upload.name)
            except SpreadsheetError as exc:
                form.add_error("file", str(exc))
                status = 400
            else:
                context["plan"] = plan
                if not plan.ok:
                    status = 400
                elif form.cleaned_data["apply"]:
                    contacts_import(plan=plan, imported_by=request.user.get_username(), filename=upload.name)
                    self.message_user(
                        request,
                        _("Contacts imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
                        % {
                            "created": plan.count("create"),
                            "updated": plan.count("update"),
                            "unchanged": plan.count("unchanged"),
                        },
                        messages.SUCCESS,
                    )
                    return redirect(reverse("admin:alerts_contact_changelist"))
        elif request.method == "POST":
            status = 400
        return TemplateResponse(request, "alerts/admin/import_contacts.html", context, status=status)


@admin.register(ContactImport)
class ContactImportAdmin(ReadOnlyAdmin):
    list_display = ["filename", "imported_by", "imported_at", "created", "updated", "unchanged"]


@admin.register(AlertRun)
class AlertRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "as_of", "trigger", "raised", "reopened", "closed", "notifications", "digests"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["rule", "threshold", "subject_key", "day", "since", "province", "agency", "raised_at", "closed_at"]
    list_filter = ["rule", ("closed_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject_key"]
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "alert", "created_at", "read_at"]
    list_select_related = ["user", "alert"]
    search_fields = ["user__username"]
    show_full_result_count = False


@admin.register(Digest)
class DigestAdmin(ReadOnlyAdmin):
    """One e-mail per person per run. A digest left `sending` may or may not have gone (its sender stopped
    mid-send): only an administrator sends it again."""

    list_display = ["email", "run", "language", "status", "attempts", "claimed_at", "sent_at", "last_error"]
    list_filter = ["status", "language"]
    search_fields = ["email"]
    actions = ["send_again"]

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser  # for the action only; the fields stay read-only

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.action(description=_("Send again (digests stuck in sending, or given up)"))
    def send_again(self, request, queryset):
        count = digest_requeue(digest_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, _("%(count)s digest(s) will be sent by the next sender.") % {"count": count})


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "language", "email_off", "updated_at"]
    search_fields = ["user__username"]


@admin.register(SupportResolution)
class SupportResolutionAdmin(ReadOnlyAdmin):
    list_display = ["report", "closed_by", "closed_at", "resolution"]
    list_select_related = ["report", "closed_by"]
