"""The project's JSON parser (REST_FRAMEWORK DEFAULT_PARSER_CLASSES and the report views). A module of its
own: DRF imports the parser classes while it defines its views, so this may import no rest_framework.views."""

import codecs
import re
from typing import IO, Any

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers
from rest_framework.utils import json

from core.text import MESSAGE_MAX, echo

# A lone UTF-16 surrogate can only arrive written as an escape (\uD800 to \uDFFF): UTF-8 cannot carry one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# A NUL too (JSON refuses control characters written as they are): \u0000.
_NUL_ESCAPE = re.compile(r"\\u0000")
_NUL = re.compile("\x00")


class InvalidText(exceptions.APIException):
    """A text of the body cannot be stored; the body names where, in the API's error shape."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, path: str, *, detail: str, message: str, code: str = "invalid_text") -> None:
        path = echo(path, MESSAGE_MAX)  # a path of a thousand levels, or of long keys, is cut
        super().__init__({"code": "invalid", "detail": detail, "errors": {path: [{"code": code, "message": message}]}})


def lone_surrogate(path: str) -> InvalidText:
    return InvalidText(
        path,
        detail=_("The request carries text that is not valid Unicode; nothing was stored."),
        message=_("Contains a lone UTF-16 surrogate (such as \\ud800), which is not a character."),
    )


def nul_character(path: str) -> InvalidText:
    return InvalidText(
        path,
        detail=_("The request carries a NUL character (\\u0000) in its text; nothing was stored."),
        message=_("Contains a NUL character (\\u0000), which text may not contain."),
    )


def duplicate_key(path: str) -> InvalidText:
    return InvalidText(
        path,
        detail=_("The request carries a field more than once; nothing was stored."),
        message=_("Given more than once: send each field once."),
        code="duplicate_key",
    )


class DuplicateKey(ValueError):
    """A JSON object has the same key twice (json.loads would silently keep the last value)."""


def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """object_pairs_hook for json.loads: the object, or DuplicateKey."""
    data = dict(pairs)
    if len(data) != len(pairs):
        raise DuplicateKey
    return data


class _Pairs(list[tuple[str, Any]]):
    """An object as its (key, value) pairs, duplicates kept: to find where a duplicated key is."""


def duplicate_key_path(text: str) -> str:
    """The path (`reports[3].returned`) of the first duplicated key of the JSON `text`."""
    stack: list[tuple[str, Any]] = [("", json.loads(text, object_pairs_hook=_Pairs))]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _Pairs):
            seen: set[str] = set()
            items = []
            for key, item in value:
                key_path = f"{path}.{_printable(key)}" if path else _printable(key)
                if key in seen:
                    return key_path
                seen.add(key)
                items.append((key_path, item))
            stack.extend(reversed(items))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{path}[{i}]", item) for i, item in enumerate(value)]))
    return "non_field_errors"


def not_utf8() -> exceptions.ParseError:
    return exceptions.ParseError(
        _("JSON parse error - the body must be encoded in UTF-8 (RFC 8259), not UTF-16 or UTF-32.")
    )


def decode_json(body: bytes) -> Any:
    """The one decoding of a JSON body, for the full stack (JSONParser below) and the single-report fast path
    (reports.fastpath), so the two accept exactly the same bodies:
    - strict UTF-8, whatever charset the Content-Type declares: RFC 8259 says JSON exchanged between systems
      is UTF-8 and a `charset` parameter has no effect. A UTF-16 or UTF-32 body (it has NUL bytes: JSON's
      first characters are ASCII), or bytes that are not UTF-8 (such as `ED A0 80`, a surrogate written in
      UTF-8), are a 400 `parse_error`, and so is a byte-order mark;
    - nesting deeper than Python's recursion limit (json raises RecursionError): 400 `parse_error`;
    - NaN and Infinity, which are not JSON: 400 `parse_error`;
    - a key given twice in one object, of which json would silently keep the last value: 400 `invalid`
      naming the path, code `duplicate_key`;
    - a lone UTF-16 surrogate ("\\ud800") or a NUL ("\\u0000") in any string or key, which json accepts
      but no database or UTF-8 encoder does: 400 `invalid` naming the path (`reports[3].difficulties`),
      code `invalid_text`. The escapes are looked for in the decoded text, and the walk runs only when one
      is there, so a normal body costs two regex searches.
    Raises the DRF exception of the answer (ParseError or InvalidText)."""
    # JSON never has a raw NUL (it is escaped inside strings): a body with one is UTF-16 or UTF-32.
    if b"\x00" in body or body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise not_utf8()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise exceptions.ParseError(f"JSON parse error - {exc}") from None
    try:
        data = json.loads(text, parse_constant=json.strict_constant, object_pairs_hook=refuse_duplicates)
    except RecursionError:
        raise exceptions.ParseError(_("JSON parse error - the document is nested too deeply.")) from None
    except DuplicateKey:
        raise duplicate_key(duplicate_key_path(text)) from None
    except ValueError as exc:
        raise exceptions.ParseError(f"JSON parse error - {exc}") from None
    for escape, character, error in (
        (_SURROGATE_ESCAPE, _SURROGATE, lone_surrogate),
        (_NUL_ESCAPE, _NUL, nul_character),
    ):
        if escape.search(text):
            path = text_path(data, character)
            if path is not None:
                raise error(path)
    return data


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the project's one decoding (decode_json): what would otherwise fail later as a
    500, or be read differently by the fast path, is a 4xx naming what is wrong."""

    def parse(self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Any = None) -> Any:
        return decode_json(stream.read() if stream is not None else b"")


def _printable(text: str) -> str:
    """A key as a path names it: printable, and no longer than an answer may echo it (core.text)."""
    return echo(text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000"))


def text_path(data: Any, character: re.Pattern[str]) -> str | None:
    """The path (`reports[3].difficulties`) of the first string or key in which `character` (a compiled
    pattern) is found, or None. Iterative: the document may be as deep as the parser allowed."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if character.search(value):
                return path or "non_field_errors"
        elif isinstance(value, dict):
            items: list[tuple[str, Any]] = []
            for key, item in value.items():
                key_path = f"{path}.{_printable(key)}" if path else _printable(key)
                if character.search(key):
                    return key_path
                items.append((key_path, item))
            stack.extend(reversed(items))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{path}[{i}]", item) for i, item in enumerate(value)]))
    return None
