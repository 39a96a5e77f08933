"""GET /api/v1/audit/: the audit trail as JSON, with the page's filters, for inspectors and the national admin
(403 for every other role and for API keys)."""

from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.utils.choices import CallableChoiceIterator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from audit.forms import TrailFilterForm
from audit.trail import audit_trail, describe_all, may_read_audit
from core import trail
from core.api import ErrorSerializer, ValidationErrorBodySerializer, field_errors
from tasks.scoping import scope_for_request

# The kinds every app declared (core.trail), read when iterated.
KINDS = CallableChoiceIterator(trail.kind_choices)


class MayReadAudit(BasePermission):
    message = gettext_lazy("The audit trail is read by inspectors and the national admin.")

    def has_permission(self, request, view):
        return may_read_audit(scope_for_request(request))


class AuditApiClientSerializer(serializers.Serializer):
    key_prefix = serializers.CharField(help_text="The first 12 characters of the key (never the key).")
    name = serializers.CharField()


class AuditObjectSerializer(serializers.Serializer):
    type = serializers.CharField(
        help_text="assignment, report, catalogue_import, api_client, lock_exception, meeting, target; for a "
        "record change the model (`app_label.model`, e.g. `tasks.membership`)."
    )
    id = serializers.CharField(allow_null=True)
    code = serializers.CharField(
        help_text="Task, locality or target code, key prefix, file, title, or the record's name."
    )
    label = serializers.CharField(help_text="Unit, date, province, or the model's name.")
    url = serializers.CharField(allow_null=True, help_text="The object's page, where there is one.")


class AuditChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()


class AuditEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=KINDS)
    kind_label = serializers.CharField(help_text="In the language of the request.")
    actor = serializers.CharField(
        allow_null=True, help_text="Username; null for a key's report, or a change made outside a request."
    )
    api_client = AuditApiClientSerializer(allow_null=True, help_text="The key a report was sent with.")
    object = AuditObjectSerializer()
    action = serializers.ChoiceField(
        choices=["create", "update", "delete"], allow_null=True, help_text="For a record change: what was done."
    )
    summary = serializers.CharField()
    note = serializers.CharField(help_text="The note, reason or comment given with the change.")
    changes = AuditChangeSerializer(many=True, help_text="Field by field, old → new (updates and record changes).")


EVENT_EXAMPLE = {
    "at": "2025-09-02T09:14:05+07:00",
    "kind": "record_change",
    "kind_label": "record changed",
    "actor": "admin",
    "api_client": None,
    "object": {
        "type": "tasks.membership",
        "id": "12",
        "code": "inspector-1 · inspector",
        "label": "membership",
        "url": None,
    },
    "action": "update",
    "summary": "changed: role: inspector → steering committee",
    "note": "",
    "changes": [{"field": "role", "old": "inspector", "new": "steering committee"}],
}


class AuditTrailView(generics.ListAPIView):
    """Every recorded write, newest first: assignment updates, reports and corrections, catalogue imports,
    keys issued and revoked, lock exceptions, meetings, target values, and record changes field by field."""

    serializer_class = AuditEventSerializer
    permission_classes = [IsAuthenticated, MayReadAudit]
    filter_backends = []  # the trail's own filters (TrailFilterForm), shared with the page
    queryset = AdminLogEntry.objects.none()  # for the schema; the trail is a union of every source

    @extend_schema(
        summary="The audit trail (inspectors and the national admin)",
        description="Who did what and when, newest first, paginated; the same filters as the page /audit/. "
        "Passwords and key hashes are never recorded. 403 for other roles and for API keys.",
        parameters=[
            OpenApiParameter(
                "kind", OpenApiTypes.STR, enum=[code for code, _label in KINDS], description="One kind of event."
            ),
            OpenApiParameter("actor", OpenApiTypes.STR, description="A username, or an API key's prefix."),
            OpenApiParameter("date_after", OpenApiTypes.DATE, description="From this day (Asia/Ho_Chi_Minh)."),
            OpenApiParameter("date_before", OpenApiTypes.DATE, description="Until this day, included."),
            OpenApiParameter("q", OpenApiTypes.STR, description="The object's code, or words of its name."),
        ],
        responses={
            200: AuditEventSerializer(many=True),
            400: OpenApiResponse(ValidationErrorBodySerializer, description="A filter is refused; it is named."),
            403: OpenApiResponse(ErrorSerializer, description="Only inspectors and the national admin read it."),
        },
        examples=[
            OpenApiExample(
                "one page",
                value={"count": 1, "next": None, "previous": None, "results": [EVENT_EXAMPLE]},
                response_only=True,
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        form = TrailFilterForm(request.query_params)
        if not form.is_valid():
            body = field_errors(form.errors.as_data(), detail=_("A filter is not valid: see the errors of each field."))
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        page = self.paginate_queryset(audit_trail(form.trail_filter()))
        events = list(describe_all(page if page is not None else []))
        return self.get_paginated_response(self.get_serializer(events, many=True).data)
