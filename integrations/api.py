"""GET /api/v1/changes/: the changes feed (DESIGN.md §14), for every key and user, scoped as every list."""

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core import events
from core.api import ErrorSerializer, ValidationErrorBodySerializer
from integrations import feed
from tasks.scoping import scope_for_request

LIMIT_DEFAULT = 500
LIMIT_MAX = 1000


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The event's id (unique; not the order of the feed).")
    type = serializers.CharField(help_text="A declared type, e.g. `report.accepted` (see `types`).")
    occurred_at = serializers.DateTimeField()
    subject = serializers.CharField(help_text="What changed: `daily_report`, `assignment`, `alert`, `meeting`, …")
    subject_id = serializers.CharField()
    province = serializers.CharField(allow_null=True, help_text="Province code (2 digits) the change concerns.")
    commune = serializers.CharField(allow_null=True, help_text="Commune code (5 digits).")
    agency = serializers.CharField(allow_null=True, help_text="Agency code.")
    data = serializers.DictField(help_text="A small payload of what changed; its fields depend on the type.")


class ChangesSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    cursor = serializers.CharField(help_text="Opaque; send it back as `cursor` for the events after these.")
    has_more = serializers.BooleanField(help_text="More events are ready now: ask again at once with `cursor`.")


class GoneSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["cursor_expired"])
    detail = serializers.CharField()
    retention_days = serializers.IntegerField()
    oldest_kept = serializers.DateTimeField(allow_null=True)


EXAMPLE = {
    "events": [
        {
            "id": 90211,
            "type": "report.accepted",
            "occurred_at": "2025-09-02T07:41:12.201544+07:00",
            "subject": "daily_report",
            "subject_id": "812",
            "province": "01",
            "commune": "00004",
            "agency": None,
            "data": {"locality": "00004", "date": "2025-09-01", "receipt": "R-4F2A9C", "revision": 1, "late": False},
        }
    ],
    "cursor": "WzkxMjIzNCwgOTAyMTFd:1uQx2b:8j0s…",
    "has_more": False,
}


def _types_description() -> str:
    return "Only these types, comma-separated: " + ", ".join(f"`{code}`" for code in events.declared()) + "."


def _bad(field: str, code: str, message: str) -> Response:
    body = {
        "code": "invalid",
        "detail": _("A parameter is not valid: see the errors of each field."),
        "errors": {field: [{"code": code, "message": message}]},
    }
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


class ChangesView(APIView):
    """Every change other systems care about, in an order that never skips one: follow `cursor`."""

    @extend_schema(
        summary="The changes feed",
        description="The events the caller may see (a commune's key its commune's, a province's its province "
        "and communes', an agency its own, read-all roles and `national` keys everything), oldest first. Start "
        "without `cursor`, then send back the `cursor` of each answer: no event is skipped, even when "
        "transactions commit out of order, and none comes twice for one cursor. Events are kept "
        "`PLAN02_EVENTS_RETENTION_DAYS` days (90); a cursor older than that answers 410.",
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description="The `cursor` of the previous answer."),
            OpenApiParameter("types", OpenApiTypes.STR, description=_types_description()),
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description=f"Events per answer, 1–{LIMIT_MAX} (default {LIMIT_DEFAULT})."
            ),
        ],
        responses={
            200: ChangesSerializer,
            400: OpenApiResponse(ValidationErrorBodySerializer, description="`cursor`, `types` or `limit` refused."),
            410: OpenApiResponse(GoneSerializer, description="The cursor is older than the events kept."),
            403: OpenApiResponse(ErrorSerializer),
        },
        examples=[
            OpenApiExample("a page", value=EXAMPLE, response_only=True, status_codes=["200"]),
            OpenApiExample(
                "expired cursor",
                value={
                    "code": "cursor_expired",
                    "detail": "Events are kept 90 days …",
                    "retention_days": 90,
                    "oldest_kept": "2025-06-04T00:00:12+07:00",
                },
                response_only=True,
                status_codes=["410"],
            ),
        ],
    )
    def get(self, request):
        raw_limit = request.query_params.get("limit", "")
        limit = LIMIT_DEFAULT
        if raw_limit:
            if not raw_limit.isascii() or not raw_limit.isdigit() or not 1 <= int(raw_limit) <= LIMIT_MAX:
                return _bad("limit", "invalid", _("A whole number from 1 to %(max)s.") % {"max": LIMIT_MAX})
            limit = int(raw_limit)
        try:
            types = feed.parse_types(request.query_params.getlist("types"))
        except feed.UnknownTypes as exc:
            return _bad(
                "types",
                "unknown_type",
                _("Unknown event type: %(types)s. Known: %(known)s.")
                % {"types": ", ".join(code[:60] for code in exc.unknown[:5]), "known": ", ".join(events.declared())},
            )
        position = feed.START
        token = request.query_params.get("cursor", "")
        if token:
            try:
                position = feed.Position.decode(token)
            except feed.BadCursor:
                return _bad(
                    "cursor",
                    "invalid_cursor",
                    _("This cursor was not given by this portal: send back the cursor of an answer unchanged."),
                )
        try:
            page = feed.changes(scope=scope_for_request(request), position=position, types=types, limit=limit)
        except feed.CursorExpired as exc:
            days = feed.retention_days()
            body = {
                "code": "cursor_expired",
                "detail": _(
                    "Events are kept %(days)s days, and some after this cursor have been deleted. Start again "
                    "without a cursor (from the oldest event kept) and bring your copy up to date from the "
                    "lists (/api/v1/reports/daily/, /api/v1/assignments/, …) for the time in between."
                )
                % {"days": days},
                "retention_days": days,
                "oldest_kept": timezone.localtime(exc.oldest_kept).isoformat() if exc.oldest_kept else None,
            }
            return Response(body, status=status.HTTP_410_GONE)
        return HttpResponse(page.body(), content_type="application/json")
