"""Shared pieces of the REST API: pagination and the error body."""

from django.core.exceptions import NON_FIELD_ERRORS
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000


def exception_handler(exc, context):
    """DRF's handler, plus a stable `code` on simple errors so clients need not parse prose."""
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        code = getattr(getattr(exc, "detail", None), "code", None) or getattr(exc, "default_code", None)
        if code and "code" not in response.data:
            response.data["code"] = code
    return response


class FieldErrorSerializer(serializers.Serializer):
    """One error of one field, in the bodies of 400 answers (documentation only)."""

    code = serializers.CharField(help_text="Stable, untranslated code, e.g. `required`, `wrong_type`.")
    message = serializers.CharField(help_text="In the language of the request (Accept-Language: vi or en).")


class ErrorSerializer(serializers.Serializer):
    """An error without field errors (documentation only)."""

    code = serializers.CharField(help_text="Stable, untranslated code, e.g. `not_found`, `permission_denied`.")
    detail = serializers.CharField(help_text="Translated explanation.")


def field_errors(errors: dict, *, detail: str) -> dict:
    """{"code": "invalid", "detail", "errors": {field: [{"code", "message"}]}} from a Django ValidationError's
    error_dict: the error body of every write in the API, so clients match on stable codes."""
    body: dict = {}
    for field, items in errors.items():
        name = "non_field_errors" if field == NON_FIELD_ERRORS else field
        for item in items:
            message = item.message % item.params if item.params else item.message
            body.setdefault(name, []).append({"code": item.code or "invalid", "message": str(message)})
    return {"code": "invalid", "detail": detail, "errors": body}
