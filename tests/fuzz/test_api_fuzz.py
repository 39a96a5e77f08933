"""Every operation of the OpenAPI schema fuzzed by Schemathesis with the credentials of every role (DESIGN.md
§10, "Bad input"): no answer is a 5xx, and every answer matches what the schema documents for its status.

The schema is the one /api/schema/ serves (tests/fuzz/schema.py; test_every_role_is_served_the_fuzzed_schema
checks that each credential is served this same document). Requests go to the WSGI application in-process,
inside the test's savepoint (conftest.py): no server, no network, nothing left behind.

One test per operation. Schemathesis generates its requests (valid ones and, in negative mode, wrong types,
out-of-range numbers, missing or unknown fields, odd unicode, nulls), and each generated request is sent
with several credentials: every one of them with the two primary credentials (a province's API key and a
commune clerk's session, who may write reports and assignments), the first FEW_EXAMPLES with the seven
others (a commune's key; the sessions of a province officer, an agency officer, a steering member, an
inspector, the national admin and the central support team). Hypothesis is derandomized and keeps no
example database, so every run sends the same requests.

PLAN02_FUZZ_EXAMPLES (default 6) is the number of generated requests per operation (Schemathesis adds the
schema's own examples). PLAN02_FUZZ_COVERAGE=1 adds Schemathesis's coverage phase: boundary values, every
wrong type and every missing field of every parameter, about 1,800 more requests for each primary credential.
"""

import collections
import os

import pytest
from django.test import Client
from hypothesis import HealthCheck, settings

from tests.fuzz.schema import DOCUMENT, call, schema

EXAMPLES = int(os.environ.get("PLAN02_FUZZ_EXAMPLES", "6"))
FEW_EXAMPLES = max(3, EXAMPLES // 3)
PRIMARY = ["province_key", "commune_clerk"]
OTHERS = [
    "commune_key",
    "province_officer",
    "agency_officer",
    "steering",
    "inspector",
    "admin_user",
    "support_member",
]

# Existing objects for the path parameters, per operation path (set by the `fuzz_run` fixture), and how
# many addresses the hook has seen for each path.
TARGETS: dict = {}
SEEN: collections.Counter = collections.Counter()


@schema.hook
def map_path_parameters(context, path_parameters):
    """Every other generated address, the first included, is replaced by the address of an object that
    exists, so that the answers about real objects (200 and its body, 403) are checked too, not only 404s.
    Generation is derandomized, so the same requests are replaced on every run."""
    targets = TARGETS.get(context.operation.path)
    if not targets or not path_parameters:
        return path_parameters
    seen = SEEN[context.operation.path]
    SEEN[context.operation.path] += 1
    if seen % 2:
        return path_parameters
    return {**path_parameters, **targets[seen // 2 % len(targets)]}


@pytest.mark.parametrize("name", PRIMARY + OTHERS)
def test_every_role_is_served_the_fuzzed_schema(fuzz_world, name):
    credential = fuzz_world.credentials[name]
    browser = Client(headers=credential["headers"])
    for cookie, value in credential["cookies"].items():
        browser.cookies[cookie] = value
    response = browser.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response.json() == DOCUMENT


def test_a_session_credential_passes_the_csrf_check(fuzz_world):
    credential = fuzz_world.credentials["commune_clerk"]
    browser = Client(enforce_csrf_checks=True, headers=credential["headers"])
    for cookie, value in credential["cookies"].items():
        browser.cookies[cookie] = value
    assert browser.post("/api/v1/notifications/read-all/").status_code == 200
    del browser.cookies["csrftoken"]
    assert browser.post("/api/v1/notifications/read-all/").status_code == 403


@pytest.fixture
def fuzz_run(fuzz_world, in_process_wsgi):
    """The world's credentials for this operation's test, and how many requests it has generated so far."""
    TARGETS.update(fuzz_world.targets)
    SEEN.clear()
    yield {"credentials": fuzz_world.credentials, "generated": 0}
    TARGETS.clear()


@schema.parametrize()
# The fixture is the same for every generated request of the operation, as intended.
@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_fuzz(case, fuzz_run):
    fuzz_run["generated"] += 1
    names = PRIMARY + OTHERS if fuzz_run["generated"] <= FEW_EXAMPLES else PRIMARY
    for name in names:
        # Printed before each request: the last line of a failure's captured output names its credential
        # (the "Reproduce with" line filters out the secrets, and so which key or session it was).
        print(f"credential: {name}")
        call(case, fuzz_run["credentials"][name])
