"""The OpenAPI schema the fuzz tests load into Schemathesis: the document /api/schema/?format=json serves
(drf-spectacular's generator, run once at import), its operations called on the WSGI application
in-process (plan02.wsgi.application, the report fast path included): no server, no network."""

import json
import os

import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from plan02.wsgi import application

# Schemathesis's coverage phase (boundary values, every wrong type and missing field of every parameter):
# about 1,800 more requests for each primary credential (a minute and a half more), so only when asked for.
COVERAGE = os.environ.get("PLAN02_FUZZ_COVERAGE") == "1"
# What every answer is checked for: not a 5xx, and the body the schema documents for its status code.
CHECKS = [not_a_server_error, response_schema_conformance]


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


def send(path, method, credential, *, raw=None, language="en", **parts):
    """One request of the operation `path` `method` with `parts` (path_parameters, query, body), or the bytes
    `raw` as its JSON body, in `language`, checked as the fuzzer checks (CHECKS)."""
    case = schema[path][method].Case(**parts)
    headers = {"Accept-Language": language}
    if raw is None:
        return call(case, credential, headers=headers)
    case.body, case.media_type = {}, "application/json"  # the JSON content type; `raw` replaces the body
    return call(case, credential, headers=headers, data=raw)
