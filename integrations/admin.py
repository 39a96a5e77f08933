"""Webhook endpoints are registered by the national admin here (the secret is generated, shown on the
endpoint's page, and rotated with an action); messages and their attempts are the delivery log, read-only,
with redelivery as an action."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core import events
from core.readonly_admin import ReadOnlyAdmin
from integrations import services
from integrations.models import WebhookAttempt, WebhookEndpoint, WebhookMessage


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("event types"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every type."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "event_types", "scope_kind", "province", "commune", "agency", "owner_email", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = [
            (code, f"{code} — {t.description}") for code, t in events.declared().items()
        ]

    def _post_clean(self):
        super()._post_clean()
        try:
            services.endpoint_validate(self.instance)
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                for error in errors:
                    self.add_error(field if field in self.fields else None, error)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "scope_kind", "active", "failing_since", "disabled_at", "owner_email"]
    list_filter = ["active", "scope_kind"]
    search_fields = ["name", "url", "owner_email"]
    readonly_fields = [
        "secret",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    ]
    actions = ["rotate_secret"]

    def save_model(self, request, obj, form, change):
        services.endpoint_save(endpoint=obj, actor=request.user)

    @admin.action(description=_("Give the selected endpoints a new secret"))
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
        self.message_user(request, _("New secrets made: give them to the receivers."), messages.WARNING)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "finished_at", "response_status", "error", "response_body", "request_headers"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookMessage)
class WebhookMessageAdmin(ReadOnlyAdmin):
    list_display = ["webhook_id", "endpoint", "event_type", "status", "attempts", "next_attempt_at", "delivered_at"]
    list_filter = ["status", "endpoint", "event_type"]
    search_fields = ["webhook_id", "event_type"]
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]
    show_full_result_count = False

    @admin.action(description=_("Deliver the selected messages again (same webhook-id)"))
    def redeliver(self, request, queryset):
        count = services.messages_redeliver(message_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("%(count)s message(s) will be sent again.") % {"count": count}, messages.SUCCESS)
