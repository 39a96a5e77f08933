"""The early-warning API of DESIGN.md §8: notifications (own), alerts, the blocker register and support
requests (scoped like every list of the portal). Thin: a selector's queryset, a FilterSet, a serializer; the
writes call one service."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from alerts import selectors
from alerts.filters import AlertFilterSet, BlockerFilterSet, NotificationFilterSet, SupportRequestFilterSet
from alerts.models import Alert, Notification
from alerts.serializers import (
    AlertSerializer,
    BlockerSerializer,
    MarkedSerializer,
    NotificationSerializer,
    SupportCloseInputSerializer,
    SupportRequestSerializer,
)
from alerts.services import notifications, support
from core.api import BAD_REQUEST_BODY, ErrorSerializer, field_errors
from core.db import parse_id
from reports.models import DailyReport
from tasks.models import Assignment
from tasks.scoping import scope_for_request


def _page(results):
    return {"count": len(results), "next": None, "previous": None, "results": results}


NOTIFICATION_EXAMPLE = {
    "id": 5012,
    "rule": "missing_report_1",
    "title": "No daily report for 1 day in a row (since 01/12/2026): Phường Ba Đình (00004)",
    "url": "https://plan02.example.gov.vn/dashboard/communes/00004/",
    "alert": 3301,
    "created_at": "2026-12-02T08:05:03+07:00",
    "read": False,
}
ALERT_EXAMPLE = {
    "id": 3301,
    "rule": "blocked",
    "threshold": 7,
    "subject": {"kind": "assignment", "id": 812, "code": "T30", "label": "T30 · Phường Ba Đình"},
    "province": "01",
    "agency": "BTC",
    "since": "2026-11-20",
    "open": True,
    "closed_at": None,
    "notified": ["officer-btc"],
}
BLOCKER_EXAMPLE = {
    "assignment": 812,
    "task": "T30",
    "unit": {"kind": "commune", "code": "00004", "name": "Phường Ba Đình"},
    "province": "01",
    "blocking_agency": "BTC",
    "blocked_reason": "Waiting for the budget decision",
    "since": "2026-11-20",
    "days_waiting": 12,
    "url": "https://plan02.example.gov.vn/tasks/assignments/812/",
}
SUPPORT_EXAMPLE = {
    "id": 99120,
    "locality": "00004",
    "province": "01",
    "commune": "00004",
    "date": "2026-12-01",
    "difficulties": "The scanner of the one-stop desk is broken.",
    "proposals": "Lend us a scanner for a week.",
    "received_at": "2026-12-01T17:40:00+07:00",
    "open": False,
    "resolution": "The province's IT centre delivered a scanner on 02/12.",
    "closed_by": "officer-hanoi",
    "closed_at": "2026-12-02T10:15:00+07:00",
    "url": "https://plan02.example.gov.vn/alerts/support/99120/",
}
NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description="Not found, or outside what you may see.",
    examples=[OpenApiExample("not found", value={"detail": "Not found.", "code": "not_found"})],
)


class ScopedDetailMixin:
    """A detail is found (or not: 404 with a code) by id within the caller's scope; filters are for lists."""

    def get_object(self):
        pk = parse_id(self.kwargs["pk"])
        found = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if found is None:
            raise NotFound()
        return found


@extend_schema_view(
    list=extend_schema(
        summary="Your notifications",
        description="The alerts you were told about in the portal, newest first. `unread=true`: only the unread.",
        examples=[OpenApiExample("one page", value=_page([NOTIFICATION_EXAMPLE]), response_only=True)],
    ),
)
class NotificationViewSet(ScopedDetailMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    queryset = Notification.objects.none()  # for the schema; get_queryset() scopes every request

    def get_queryset(self):
        return selectors.notification_list(scope=scope_for_request(self.request))

    @extend_schema(
        summary="Mark a notification read",
        request=None,
        filters=False,
        responses={200: NotificationSerializer, 404: NOT_FOUND},
        examples=[OpenApiExample("read", value={**NOTIFICATION_EXAMPLE, "read": True}, response_only=True)],
    )
    @action(detail=True, methods=["post"], url_path="read")
    def read(self, request, pk=None):
        notification = self.get_object()
        notifications.notification_mark_read(notification=notification, user=request.user)
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        summary="Mark all your notifications read",
        request=None,
        filters=False,
        responses={200: MarkedSerializer},
        examples=[OpenApiExample("marked", value={"marked": 12}, response_only=True)],
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        if scope_for_request(request).user_id is None:
            return Response({"marked": 0})
        return Response({"marked": notifications.notifications_mark_all_read(user=request.user)})


@extend_schema_view(
    list=extend_schema(
        summary="Alerts you may see",
        description="Alerts about what your scope covers (DESIGN.md §3, §8), open first. `open=true`: only those "
        "still open; `rule`, `province` (code), `agency` (code), `kind` (assignment, commune, report). "
        "`threshold` is in days; `notified` lists who was told in the portal: the usernames you may know (your "
        "own, your unit's people's; every one for the national roles and staff), else their role and unit.",
        examples=[OpenApiExample("one page", value=_page([ALERT_EXAMPLE]), response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One alert",
        responses={200: AlertSerializer, 404: NOT_FOUND},
        examples=[OpenApiExample("alert", value=ALERT_EXAMPLE, response_only=True)],
    ),
)
class AlertViewSet(ScopedDetailMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    queryset = Alert.objects.none()

    def get_queryset(self):
        return selectors.alert_list(scope=scope_for_request(self.request))

    def get_serializer_context(self):
        # Who reads: `notified` shows usernames only to those who may know them (alerts.display.notified).
        staff = bool(getattr(self.request.user, "is_staff", False)) and self.request.auth is None
        return {**super().get_serializer_context(), "scope": scope_for_request(self.request), "staff": staff}


@extend_schema_view(
    list=extend_schema(
        summary="The blocker register",
        description="Blocked assignments you may see: the blocked unit, the blocking agency, since when (from "
        "the history) and days waiting, oldest block first. An agency officer sees the assignments its agency "
        "blocks. Filters: `agency` (the blocking agency's code), `province`, `task` (code).",
        examples=[OpenApiExample("one page", value=_page([BLOCKER_EXAMPLE]), response_only=True)],
    ),
)
class BlockerViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = BlockerSerializer
    filterset_class = BlockerFilterSet
    queryset = Assignment.objects.none()

    def get_queryset(self):
        return selectors.blocker_list(scope=scope_for_request(self.request))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}


@extend_schema_view(
    list=extend_schema(
        summary="Support requests",
        description="Reports that asked for support (`support_needed`) that you may see: a province its own and its "
        "communes', a commune its own. `open=true`: not closed yet.",
        examples=[OpenApiExample("one page", value=_page([SUPPORT_EXAMPLE]), response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One support request",
        responses={200: SupportRequestSerializer, 404: NOT_FOUND},
        examples=[OpenApiExample("closed", value=SUPPORT_EXAMPLE, response_only=True)],
    ),
)
class SupportRequestViewSet(ScopedDetailMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = SupportRequestSerializer
    filterset_class = SupportRequestFilterSet
    queryset = DailyReport.objects.none()

    def get_queryset(self):
        return selectors.support_request_list(scope=scope_for_request(self.request))

    @extend_schema(
        summary="Close a support request",
        description="An officer of the report's province closes it with the resolution the commune's clerk will "
        "read; its alert closes too. 400 `invalid` naming `resolution` when it is missing or empty; 403 for "
        "anyone else who may see it (clerks, read-only roles, API keys); 404 outside your scope; 409 "
        "`already_closed`.",
        request=SupportCloseInputSerializer,
        filters=False,
        responses={
            200: SupportRequestSerializer,
            400: OpenApiResponse(
                BAD_REQUEST_BODY, description="Refused; the bad field is named (`parse_error`: not JSON)."
            ),
            403: OpenApiResponse(ErrorSerializer, description="You may see this request but not close it."),
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="Someone closed it already."),
        },
        examples=[
            OpenApiExample(
                "close", request_only=True, value={"resolution": "The province's IT centre delivered a scanner."}
            ),
            OpenApiExample("closed", response_only=True, status_codes=["200"], value=SUPPORT_EXAMPLE),
            OpenApiExample(
                "no resolution",
                response_only=True,
                status_codes=["400"],
                value={
                    "detail": "The request was refused: see the errors of each field.",
                    "code": "invalid",
                    "errors": {"resolution": [{"code": "required", "message": "This field is required."}]},
                },
            ),
            OpenApiExample(
                "not yours",
                response_only=True,
                status_codes=["403"],
                value={
                    "detail": "Only the province's officers close its support requests.",
                    "code": "permission_denied",
                },
            ),
            OpenApiExample(
                "already closed",
                response_only=True,
                status_codes=["409"],
                value={"detail": "This request was closed by officer-hanoi on 02/12/2026.", "code": "already_closed"},
            ),
        ],
    )
    @action(detail=True, methods=["post"], url_path="close")
    def close(self, request, pk=None):
        report = self.get_object()
        scope = scope_for_request(request)
        if scope.is_api_client:
            raise PermissionDenied(_("Only the province's officers close its support requests."))
        data = SupportCloseInputSerializer(data=request.data)
        if not data.is_valid():
            return Response(_invalid(data.errors), status=status.HTTP_400_BAD_REQUEST)
        try:
            support.support_request_close(report=report, user=request.user, **data.validated_data)
        except support.SupportCloseNotAllowed as exc:
            if not exc.visible:
                raise NotFound()
            raise PermissionDenied(str(exc.args[0]) if exc.args else None)
        except support.SupportAlreadyClosed as exc:
            closed = exc.resolution
            detail = _("This request was closed by %(user)s on %(day)s.") % {
                "user": closed.closed_by.username,
                "day": timezone.localtime(closed.closed_at).strftime("%d/%m/%Y"),
            }
            return Response({"detail": detail, "code": "already_closed"}, status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as exc:
            return Response(_invalid(exc.error_dict), status=status.HTTP_400_BAD_REQUEST)
        return Response(self.get_serializer(self.get_queryset().get(pk=report.pk)).data)


def _invalid(errors):
    return field_errors(errors, detail=_("The request was refused: see the errors of each field."))
