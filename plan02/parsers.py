"""The project's JSON parser (REST_FRAMEWORK DEFAULT_PARSER_CLASSES and the report views). A module of its
own: DRF imports the parser classes while it defines its views, so this may import no rest_framework.views."""

import io
import re

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers

# A lone UTF-16 surrogate can only arrive written as an escape (\uD800 to \uDFFF): UTF-8 cannot carry one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class InvalidText(exceptions.APIException):
    """A text of the body is not valid Unicode; the body names where, in the API's error shape."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, path):
        super().__init__(
            {
                "code": "invalid",
                "detail": _("The request carries text that is not valid Unicode; nothing was stored."),
                "errors": {
                    path: [
                        {
                            "code": "invalid_text",
                            "message": _(
                                "Contains a lone UTF-16 surrogate (such as \\ud800), which is not a character."
                            ),
                        }
                    ]
                },
            }
        )


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing with a 4xx what would otherwise fail later as a 500:
    - nesting deeper than Python's recursion limit (json raises RecursionError): 400 `parse_error`;
    - a lone UTF-16 surrogate ("\\ud800") in any string or key, which json accepts but no database or
      UTF-8 encoder does: 400 `invalid` naming the path, e.g. `reports[3].difficulties`.
    The walk for surrogates runs only when the raw body has such an escape, so a normal body costs one regex
    search."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read()
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("JSON parse error - the document is nested too deeply.")) from None
        if _SURROGATE_ESCAPE.search(body):
            path = lone_surrogate_path(data)
            if path is not None:
                raise InvalidText(path)
        return data


def _printable(text):
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def lone_surrogate_path(data):
    """The path (`reports[3].difficulties`) of the first string or key holding a lone surrogate, or None.
    Iterative: the document may be as deep as the parser allowed."""
    stack = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return path or "non_field_errors"
        elif isinstance(value, dict):
            items = []
            for key, item in value.items():
                key_path = f"{path}.{_printable(key)}" if path else _printable(key)
                if _SURROGATE.search(key):
                    return key_path
                items.append((key_path, item))
            stack.extend(reversed(items))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{path}[{i}]", item) for i, item in enumerate(value)]))
    return None
