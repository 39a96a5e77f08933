"""Every API write operation sent JSON bodies in other declared charsets (issue 22: "the fuzzing also sends
bodies in other declared charsets"), each carrying a NUL (\\u0000) and a lone surrogate (\\ud800), checked as
the fuzzer checks (tests.fuzz.schema.CHECKS: never a 5xx, the documented body, no long echo).

The red team hid a NUL from the guard with `Content-Type: application/json; charset=utf-16-le`: 500 on
POST /api/v1/meetings/ and on a daily report. JSON is UTF-8 whatever the Content-Type says (RFC 8259: a
`charset` has no effect), on the full stack and the report's fast path alike (core.parsers.decode_json), so:

- a body really encoded in UTF-16 or UTF-32 is a 400 `parse_error` saying the body must be UTF-8 — no field
  can be named in a body that is not read;
- a UTF-8 body declared as UTF-16 or UTF-32 is read as UTF-8, and a NUL or a lone surrogate written in one of
  its strings is a 400 `invalid` naming that field (`invalid_text`), however long the field's name or value
  (the answer echoes a few hundred characters of it at most).
"""

import json
import urllib.parse

import pytest

from core.text import MESSAGE_MAX
from tests.fuzz.schema import DOCUMENT, send

pytestmark = pytest.mark.usefixtures("in_process_wsgi")

CHARSETS = ["utf-16-le", "utf-16", "utf-32", "utf-32-be"]
WRITES = ("post", "put", "patch", "delete")
# Each write operation that takes a JSON body: who may send it, where (a target of the fuzz world, by its
# index), and the path of a text field of its body (a `[0]` is an item of a list).
OPERATIONS = {
    ("/api/v1/reports/daily/", "POST"): ("province_key", None, "difficulties"),
    ("/api/v1/reports/daily/batch/", "POST"): ("province_key", None, "reports[0].proposals"),
    ("/api/v1/reports/daily/{locality}/{date}/", "PUT"): ("commune_key", 0, "reason"),
    ("/api/v1/assignments/{id}/updates/", "POST"): ("commune_clerk", 1, "note"),
    ("/api/v1/meetings/", "POST"): ("steering", None, "title"),
    ("/api/v1/support-requests/{id}/close/", "POST"): ("province_officer", 0, "resolution"),
    # the operations desk (DESIGN.md §12): a step without a text field gets its text in a field it has
    ("/api/v1/incidents/", "POST"): ("commune_clerk", None, "description"),
    ("/api/v1/incidents/{id}/acknowledge/", "POST"): ("province_officer", 0, "version"),
    ("/api/v1/incidents/{id}/assign/", "POST"): ("province_officer", 0, "user"),
    ("/api/v1/incidents/{id}/escalate/", "POST"): ("province_officer", 0, "reason"),
    ("/api/v1/incidents/{id}/resolve/", "POST"): ("province_officer", 0, "resolution"),
    ("/api/v1/incidents/{id}/close/", "POST"): ("commune_clerk", 0, "version"),
    ("/api/v1/incidents/{id}/reopen/", "POST"): ("commune_clerk", 0, "reason"),
    ("/api/v1/incidents/{id}/comments/", "POST"): ("commune_clerk", 0, "text"),
    # local plans, sub-tasks and inspections (DESIGN.md §13)
    ("/api/v1/plans/", "POST"): ("province_officer", None, "title"),
    ("/api/v1/subtasks/", "POST"): ("province_officer", None, "title"),
    ("/api/v1/subtasks/{id}/updates/", "POST"): ("commune_clerk", 1, "note"),
    ("/api/v1/inspections/", "POST"): ("inspector", None, "title"),
    ("/api/v1/inspections/{id}/findings/", "POST"): ("inspector", 0, "text"),
    # data quality and approval (DESIGN.md §11)
    ("/api/v1/reports/daily/{locality}/{date}/explanations/", "POST"): ("commune_key", 0, "text"),
    ("/api/v1/reports/approvals/", "POST"): ("province_officer", None, "date"),
    ("/api/v1/reports/approvals/withdraw/", "POST"): ("province_officer", None, "reason"),
}


@pytest.fixture
def world(fuzz_world):
    return fuzz_world


def json_writes():
    return sorted(
        (path, method.upper())
        for path, operations in DOCUMENT["paths"].items()
        for method, operation in operations.items()
        if method in WRITES and "application/json" in operation.get("requestBody", {}).get("content", {})
    )


def test_every_json_write_operation_is_sent_other_charsets():
    """A new write operation joins OPERATIONS (and so these tests)."""
    assert json_writes() == sorted(OPERATIONS)


def body_with(field_path, text):
    """{"reports": [{"proposals": text}]} for `reports[0].proposals`."""
    *parents, name = field_path.split(".")
    value = {name: text}
    for parent in reversed(parents):
        value = {parent.removesuffix("[0]"): [value] if parent.endswith("[0]") else value}
    return json.dumps(value, ensure_ascii=True)  # the NUL and the surrogate written as \u escapes


def post(world, operation, raw, charset):
    path, method = operation
    name, target, _field = OPERATIONS[operation]
    parameters = world.targets[path][target] if target is not None else {}
    return send(
        path,
        method,
        world.credentials[name],
        raw=raw,
        path_parameters=parameters,
        headers={"Content-Type": f"application/json; charset={charset}"},
    )


@pytest.mark.parametrize("charset", CHARSETS)
@pytest.mark.parametrize("operation", sorted(OPERATIONS), ids=" ".join)
def test_a_body_encoded_in_the_declared_charset_is_a_parse_error(world, operation, charset):
    field = OPERATIONS[operation][2]
    for text in ("before\x00after", "before\ud800after"):
        encoded = json.dumps(json.loads(body_with(field, text)), ensure_ascii=False)  # NUL escaped, \ud800 raw
        response = post(world, operation, encoded.encode(charset, errors="surrogatepass"), charset)
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "parse_error"
        assert "UTF-8" in response.json()["detail"]
        # and the red team's version: the escapes \u0000 and \ud800 as text, encoded in the declared charset
        response = post(world, operation, body_with(field, text).encode(charset), charset)
        assert (response.status_code, response.json()["code"]) == (400, "parse_error")


@pytest.mark.parametrize("charset", CHARSETS)
@pytest.mark.parametrize("operation", sorted(OPERATIONS), ids=" ".join)
@pytest.mark.parametrize(
    "text", ["before\x00after", "before\ud800after", "\ud800\x00"], ids=["nul", "surrogate", "both"]
)
def test_a_utf8_body_declared_otherwise_names_the_field(world, operation, charset, text):
    field = OPERATIONS[operation][2]
    response = post(world, operation, body_with(field, text).encode(), charset)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert list(response.json()["errors"]) == [field]
    assert response.json()["errors"][field][0]["code"] == "invalid_text"


@pytest.mark.parametrize("operation", sorted(OPERATIONS), ids=" ".join)
def test_a_long_field_name_or_value_is_echoed_a_few_hundred_characters_at_most(world, operation):
    field = OPERATIONS[operation][2]
    long_name = field + "x" * 20_000
    response = post(world, operation, body_with(long_name, "\x00").encode(), "utf-16-le")
    assert response.status_code == 400
    (named,) = response.json()["errors"]
    assert named.startswith(field) and len(named) <= MESSAGE_MAX
    response = post(world, operation, body_with(field, "\x00" + "y" * 20_000).encode(), "utf-32")
    assert response.status_code == 400
    assert "y" * 100 not in response.text


# --- the operations that also take forms: urlencoded and multipart bodies in other declared charsets ------------

FORM_MEDIA = ("application/x-www-form-urlencoded", "multipart/form-data")
ASCII_CHARSETS = ["utf-8", "latin-1", "no-such-charset"]
FORM_CHARSETS = [*ASCII_CHARSETS, "utf-16-le", "utf-32"]
BOUNDARY = "plan02-fuzz-boundary"


def form_writes():
    return sorted(
        (path, method.upper())
        for path, operations in DOCUMENT["paths"].items()
        for method, operation in operations.items()
        if method in WRITES and set(FORM_MEDIA) <= set(operation.get("requestBody", {}).get("content", {}))
    )


def valid_rest(world, operation):
    """The other fields of a body that would be accepted, so that the text field is the one refused."""
    from tasks.models import Assignment

    path, _method = operation
    if path == "/api/v1/meetings/":
        return {"date": "2026-01-15"}
    if path == "/api/v1/assignments/{id}/updates/":
        assignment = Assignment.objects.get(pk=world.targets[path][1]["id"])
        return {"status": "in_progress", "progress": "70", "version": str(assignment.version)}
    return {}


def form_body(media, fields, charset):
    encoding = charset if charset != "no-such-charset" else "utf-8"
    if media == FORM_MEDIA[0]:
        text = "&".join(f"{name}={urllib.parse.quote(value, safe='')}" for name, value in fields.items())
        return text.encode(encoding), f"{media}; charset={charset}"
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    text = "".join(parts) + f"--{BOUNDARY}--\r\n"
    return text.encode(encoding, errors="surrogatepass"), f"{media}; boundary={BOUNDARY}; charset={charset}"


def test_the_form_operations_are_known():
    assert set(form_writes()) <= set(OPERATIONS)


@pytest.mark.parametrize("charset", FORM_CHARSETS)
@pytest.mark.parametrize("media", FORM_MEDIA)
@pytest.mark.parametrize("operation", form_writes(), ids=" ".join)
def test_a_form_with_a_nul_in_another_declared_charset_is_never_stored(world, operation, media, charset):
    """A form's charset is honoured (Django decodes a form as it declares, an unknown charset as UTF-8). Where
    the NUL arrives as one (the charsets that keep ASCII as it is), it is a 400 naming the field; in UTF-16 or
    UTF-32, the bytes read as other characters (or the fields as other names), and whatever the answer is, it
    is documented, never a 5xx, and holds no NUL. (POST /api/v1/meetings/ stored a NUL in a form's title on
    PostgreSQL: a 500.)"""
    path, method = operation
    name, target, field = OPERATIONS[operation]
    raw, content_type = form_body(media, {field: "before\x00after", **valid_rest(world, operation)}, charset)
    response = send(
        path,
        method,
        world.credentials[name],
        raw=raw,
        path_parameters=world.targets[path][target] if target is not None else {},
        headers={"Content-Type": content_type},
    )
    if charset in ASCII_CHARSETS:
        assert response.status_code == 400, response.content
        assert field in response.json()["errors"], response.json()
    else:
        # (a step that applies to no incident in the state the earlier cases left is the contract's 409)
        assert response.status_code in (200, 201, 400, 409), response.content
        assert "\\u0000" not in response.text and "\x00" not in response.text


def test_the_echo_check_catches_a_long_echo():
    """tests.fuzz.schema.no_long_echo, which every fuzzed answer passes, fails an error that repeats a long text."""
    from types import SimpleNamespace

    from tests.fuzz.schema import ECHO_LIMIT, no_long_echo

    sent = "é" * (ECHO_LIMIT + 50)
    request = SimpleNamespace(url="http://testserver/api/v1/meetings/?q=1", body=json.dumps({"title": sent}).encode())

    def answer(status, text):
        return SimpleNamespace(status_code=status, request=request, content=json.dumps({"detail": text}).encode())

    with pytest.raises(AssertionError, match="echoes more than"):
        no_long_echo(None, answer(400, f"Bad title: {sent}"), None)
    assert no_long_echo(None, answer(400, f"Bad title: {sent[:ECHO_LIMIT]}"), None) is None
    assert no_long_echo(None, answer(201, sent), None) is None  # a created meeting shows its title
