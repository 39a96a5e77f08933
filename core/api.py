"""Shared pieces of the REST API: pagination and the error body (the JSON parser is core.parsers)."""

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from core.text import bounded

logger = logging.getLogger(__name__)


class RefuseUnknownFields:
    """For input serializers: a field the serializer does not know is a 400 naming it (`unknown_field`), not
    silently ignored (a misspelt field would otherwise look accepted)."""

    fields: dict

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [exceptions.ErrorDetail(_("Unknown field."), code="unknown_field")] for name in unknown}
                )
        return super().to_internal_value(data)  # type: ignore[misc]


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000


# Seconds a client should wait before retrying while the database is unreachable (a restart takes seconds).
RETRY_AFTER = 30
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def service_unavailable_body() -> dict[str, Any]:
    return {
        "code": "service_unavailable",
        "detail": _("The database cannot be reached at the moment; nothing was stored. Try again shortly."),
    }


def too_large_body(limit: int) -> dict:
    return {
        "code": "request_too_large",
        "detail": _("The request body is larger than %(limit)s bytes.") % {"limit": f"{limit:,}"},
    }


class RequestTooLarge(exceptions.APIException):
    """413 `request_too_large`: a body larger than what the operation can take (`limit` bytes)."""

    status_code = 413
    default_code = "request_too_large"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(too_large_body(limit)["detail"])


def content_length(request: HttpRequest | Request) -> int:
    """The body's declared length, as Django reads it (anything but a number is 0: no body)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def refuse_larger_body(request: HttpRequest | Request, limit: int) -> None:
    """Raise RequestTooLarge when the declared body is longer than `limit`, before anything reads it."""
    if content_length(request) > limit:
        raise RequestTooLarge(limit)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus a stable `code` on simple errors so clients need not parse prose, and a JSON 503
    with Retry-After when the database is unreachable (e.g. the API-key lookup during a restart)."""
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.warning("database unavailable: %s: %s", exc.__class__.__name__, exc)
        set_rollback()
        return Response(service_unavailable_body(), status=503, headers={"Retry-After": str(RETRY_AFTER)})
    if isinstance(exc, RequestDataTooBig):  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE, else an HTML 400
        return Response(too_large_body(settings.DATA_UPLOAD_MAX_MEMORY_SIZE), status=413)
    if isinstance(exc, RequestTooLarge):
        return Response(too_large_body(exc.limit), status=413)
    if isinstance(exc, Http404):
        # get_object_or_404's message names the model in English ("No DailyReport matches the given query.");
        # DRF's NotFound says "Not found." in the request's language, with the `code` every 404 carries.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)  # as DRF converts it, but with its `code`
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        code = getattr(getattr(exc, "detail", None), "code", None) or getattr(exc, "default_code", None)
        if code and "code" not in response.data:
            response.data["code"] = code
    if response is not None:
        # A message may quote what was sent ('"…" is not a valid choice.'): never more than a few hundred
        # characters of it (core.text).
        response.data = bounded(response.data)
    return response


class FieldErrorSerializer(serializers.Serializer):
    """One error of one field, in the bodies of 400 answers (documentation only)."""

    code = serializers.CharField(help_text="Stable, untranslated code, e.g. `required`, `wrong_type`.")
    message = serializers.CharField(help_text="In the language of the request (Accept-Language: vi or en).")


class ErrorSerializer(serializers.Serializer):
    """An error without field errors (documentation only)."""

    code = serializers.CharField(help_text="Stable, untranslated code, e.g. `not_found`, `permission_denied`.")
    detail = serializers.CharField(help_text="Translated explanation.")


@extend_schema_field({"type": "string", "enum": ["parse_error"]})
class ParseErrorCodeField(serializers.CharField):
    pass


class ParseErrorSerializer(serializers.Serializer):
    """400 `parse_error`: the body is not JSON (broken syntax, not UTF-8, nested too deeply), so no field could
    be read (documentation only)."""

    code = ParseErrorCodeField(help_text="`parse_error`.")
    detail = serializers.CharField(help_text="Translated explanation: what is wrong with the body.")


def bad_request_body(
    field_errors_serializer: type[serializers.Serializer] | serializers.Serializer, *, component_name: str
) -> PolymorphicProxySerializer:
    """The body of a 400 of an operation that reads JSON: the field errors (`field_errors_serializer`), or
    `parse_error` when the body could not be read at all (documentation only). The two are told apart by
    `code`, and only the first has `errors`."""
    return PolymorphicProxySerializer(
        component_name=component_name,
        serializers=[field_errors_serializer, ParseErrorSerializer],
        resource_type_field_name=None,
    )


def field_errors(errors: Mapping[str, Iterable[Any]], *, detail: str) -> dict[str, Any]:
    """{"code": "invalid", "detail", "errors": {field: [{"code", "message"}]}} from a Django ValidationError's
    error_dict (or a form's `errors.as_data()`) or a DRF serializer's `errors`: the error body of every write in
    the API, so clients match on stable codes, not on translated prose."""
    body: dict[str, list[dict[str, str]]] = {}
    for field, items in errors.items():
        name = "non_field_errors" if field == NON_FIELD_ERRORS else field
        for item in items:
            if isinstance(item, DjangoValidationError):
                message = item.message % item.params if item.params else item.message
                body.setdefault(name, []).append({"code": item.code or "invalid", "message": str(message)})
            else:  # DRF's ErrorDetail: a string with its code
                body.setdefault(name, []).append(
                    {"code": getattr(item, "code", None) or "invalid", "message": str(item)}
                )
    return {"code": "invalid", "detail": detail, "errors": body}


# The body `field_errors` makes (documentation only; no docstring, which the schema would show).
class ValidationErrorBodySerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Always `invalid`.")
    errors = serializers.DictField(
        child=FieldErrorSerializer(many=True), help_text="Field name (or non_field_errors) -> its errors."
    )


# The 400 of the writes that read JSON (assignment updates, closing a support request): field errors, or
# `parse_error` for a body that is not JSON.
BAD_REQUEST_BODY = bad_request_body(ValidationErrorBodySerializer, component_name="BadRequest")
