"""The OpenAPI schema the fuzz tests load into Schemathesis: the document /api/schema/?format=json serves
(drf-spectacular's generator, run once at import), its operations called on the WSGI application
in-process (plan02.wsgi.application, the report fast path included): no server, no network."""

import json
import os
import urllib.parse

import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from core.text import MESSAGE_MAX
from plan02.wsgi import application

# Schemathesis's coverage phase (boundary values, every wrong type and missing field of every parameter):
# about 1,800 more requests for each primary credential (a minute and a half more), so only when asked for.
COVERAGE = os.environ.get("PLAN02_FUZZ_COVERAGE") == "1"
ECHO_LIMIT = MESSAGE_MAX  # "no error message echoes more than a few hundred characters of what was sent"


def _strings(value):
    """Every string (keys included) of a JSON-like value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _sent(request) -> list[str]:
    """What the request sent as text: its query's and path's values, its body's strings (or its text)."""
    url = urllib.parse.urlsplit(request.url)
    pieces = [urllib.parse.unquote(url.path)]
    pieces += [value for _name, value in urllib.parse.parse_qsl(url.query, keep_blank_values=True)]
    body = request.body or b""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        pieces += list(_strings(json.loads(text)))
    except (ValueError, RecursionError):
        pieces.append(text)
    return pieces


def _answered(response) -> str:
    """The answer as text, and its JSON's strings as decoded (an echo may come back escaped)."""
    text = response.content.decode("utf-8", errors="replace")
    try:
        return text + "\n" + "\n".join(_strings(json.loads(text)))
    except (ValueError, RecursionError):
        return text


@schemathesis.check
def no_long_echo(ctx, response, case):
    """An error (4xx) repeats at most ECHO_LIMIT characters of any text it was sent (DESIGN.md §10; issue 22):
    a 1 MB field or a 30 MB key never comes back whole. Looked for: the start, the middle and the end of each
    text sent longer than the limit."""
    if not 400 <= response.status_code < 500:
        return None
    answer = None
    for piece in _sent(response.request):
        if len(piece) <= ECHO_LIMIT:
            continue
        answer = _answered(response) if answer is None else answer
        width = ECHO_LIMIT + 1
        for start in (0, (len(piece) - width) // 2, len(piece) - width):
            if piece[start : start + width] in answer:
                raise AssertionError(f"the {response.status_code} answer echoes more than {ECHO_LIMIT} characters sent")
    return None


# What every answer is checked for: not a 5xx, the body the schema documents for its status code, and no error
# that echoes a long text it was sent.
CHECKS = [not_a_server_error, response_schema_conformance, no_long_echo]


def served_document():
    """The schema exactly as /api/schema/?format=json renders it."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


DOCUMENT = served_document()
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": 20250619,
            "phases": {"coverage": {"enabled": COVERAGE}},
            "generation": {
                "deterministic": True,  # derandomized: the same requests on every run and every machine
                "database": "none",  # no .hypothesis/ directory, nothing replayed from an earlier run
                # The credentials are the tests' (conftest.py), not values generated for the security schemes.
                "with-security-parameters": False,
            },
        }
    ),
)
# As schemathesis.openapi.from_wsgi does: calls go to the WSGI application in-process.
schema.app = application


def call(case, credential, *, headers=None, **kwargs):
    """Send `case` with `credential` (conftest.World.credentials) and more `headers`, and check the answer
    (CHECKS)."""
    return case.call_and_validate(
        checks=CHECKS, headers={**credential["headers"], **(headers or {})}, cookies=credential["cookies"], **kwargs
    )


def send(path, method, credential, *, raw=None, language="en", headers=None, **parts):
    """One request of the operation `path` `method` with `parts` (path_parameters, query, body), or the bytes
    `raw` as its JSON body, in `language` and with more `headers`, checked as the fuzzer checks (CHECKS)."""
    case = schema[path][method].Case(**parts)
    headers = {"Accept-Language": language, **(headers or {})}
    if raw is None:
        return call(case, credential, headers=headers)
    case.body, case.media_type = {}, "application/json"  # the JSON content type; `raw` replaces the body
    return call(case, credential, headers=headers, data=raw)
