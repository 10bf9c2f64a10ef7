"""Fuzzing every operation of the OpenAPI spec with schemathesis: no 5xx, no response off the schema.

Positive cases (valid per the spec) reach the logic; negative ones (invalid on purpose) must be
refused with a documented 4xx. ``test_every_phase_and_check`` runs schemathesis's own engine as
``schemathesis run`` does: the examples, coverage (unexpected methods, boundary values), fuzzing (positive
and negative) and stateful phases over every operation, with every check (conformance of statuses,
content types, headers and schemas; negative data rejected, positive data accepted; a 405 with ``Allow``
listing the resource's methods). The spec has no OpenAPI links: the stateful phase follows the links
schemathesis infers (a PUT's ``article_id`` into a DELETE, the stats' article ids into PUT and DELETE).

Generation is derandomized (the same cases every run) so the suite stays deterministic; admin
operations are sent with the admin key so the fuzzer reaches the code behind the key check, and the
other operations rotate between the generated Authorization header, the agent key and none.
"""

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from conftest import ADMIN_KEY, AGENT_KEY, make_admin_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# Cases per operation (operations without parameters run out of distinct cases sooner); a reindex
# costs a build, so the suggest routes, which customers hit, get the most.
EXAMPLES = {"GET /v1/suggest": 300, "POST /v1/suggest": 300, "PUT /v1/admin/articles/{article_id}": 150,
            "DELETE /v1/admin/articles/{article_id}": 60}
NEGATIVE_EXAMPLES = 80
MIN_CASES = 1000


def test_fuzz_every_operation(tmp_path):
    app = make_admin_app(tmp_path)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    cases: Counter[str] = Counter()
    statuses: Counter[int] = Counter()

    for operation, mode in [(op, mode) for mode in GenerationMode for op in operations]:
        admin = operation.path.startswith("/v1/admin/")
        examples = EXAMPLES.get(operation.label, 10)
        if mode is GenerationMode.NEGATIVE:
            examples = min(examples, NEGATIVE_EXAMPLES)

        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case):
            turn = cases[operation.label] % 3
            if admin or turn == 1:
                headers = {"Authorization": f"Bearer {ADMIN_KEY if admin else AGENT_KEY}"}
            else:
                headers = None
                if turn == 2 and case.headers:
                    case.headers.pop("authorization", None)
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            cases[operation.label] += 1
            statuses[response.status_code] += 1

        try:
            fuzz()
        except Unsatisfiable:  # no input to make invalid (GET /healthz)
            assert mode is GenerationMode.NEGATIVE

    print(f"\nfuzzed {sum(cases.values())} cases (positive and negative) over {len(operations)} operations: "
          f"{dict(cases)}")
    print(f"status codes: {dict(sorted(statuses.items()))}")
    assert {"GET /v1/suggest", "POST /v1/suggest", "GET /readyz", "POST /v1/admin/reindex",
            "PUT /v1/admin/articles/{article_id}", "DELETE /v1/admin/articles/{article_id}"} <= set(cases)
    assert sum(cases.values()) >= MIN_CASES
    assert not [code for code in statuses if code >= 500]


def test_undecodable_json_body_is_a_documented_400(client):
    """Found by the negative fuzzer: FastAPI's 400 for a non-UTF-8 JSON body was undocumented."""
    response = client.post("/v1/suggest", content=b"\xd5e", headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["error"]) == (400, "bad_request")
    assert "400" in client.app.openapi()["paths"]["/v1/suggest"]["post"]["responses"]


# What schemathesis cannot know from the spec: an article body is a string, but one that does not parse is
# a 422; a period bound is a string of 40 characters, but one that is no date in 1970-2100 is a 422.
SEMANTIC_422 = {"positive_data_acceptance": {"expected-statuses": ["2xx", 401, 403, 404, 409, 422]}}
ENGINE = {
    "seed": 12, "generation": {"max-examples": 25, "database": "none", "deterministic": True},
    "checks": {"enabled": True}, "phases": {"stateful": {"max-steps": 10}},
    "operations": [
        {"include-path-regex": "/admin/", "headers": {"Authorization": f"Bearer {ADMIN_KEY}"}, "checks": SEMANTIC_422},
        {"include-path-regex": "/stats/|/dashboard", "headers": {"Authorization": f"Bearer {AGENT_KEY}"}, "checks": SEMANTIC_422},
        {"exclude-path-regex": "/admin/|/stats/|/dashboard", "headers": {"Authorization": f"Bearer {AGENT_KEY}"}},
    ],
}
PHASES = {"EXAMPLES", "COVERAGE", "FUZZING", "STATEFUL_TESTING"}


def test_every_phase_and_check(tmp_path):
    app = make_admin_app(tmp_path)
    sent: Counter[tuple[str, int]] = Counter()

    async def counted(scope, receive, send):
        async def sending(message):
            if message["type"] == "http.response.start" and scope["path"] != "/openapi.json":
                sent[(scope["method"], message["status"])] += 1
            await send(message)
        await app(scope, receive, sending if scope["type"] == "http" else send)

    schema = schemathesis.openapi.from_asgi("/openapi.json", counted, config=SchemathesisConfig.from_dict(ENGINE))
    finished, failures, scenarios = set(), [], Counter()
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseFinished) and event.status.name == "SUCCESS":
            finished.add(event.phase.name.name if hasattr(event.phase.name, "name") else str(event.phase.name))
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            failures.append(repr(event))
        elif isinstance(event, events.ScenarioFinished):
            scenarios[event.phase.name] += 1
            failures += [f"{check.name}: {case.value.method} {case.value.formatted_path}: {check.failure_info.failure}"
                         for case_id, checks in event.recorder.checks.items() for check in checks
                         if check.status.name == "FAILURE" for case in [event.recorder.cases[case_id]]]
    statuses = Counter(status for (_, status), n in sent.items() for _ in range(n))
    print(f"\nschemathesis engine: {sum(sent.values())} requests, scenarios {dict(scenarios)}, "
          f"statuses {dict(sorted(statuses.items()))}")
    assert failures == []
    assert PHASES <= finished
    assert not [s for s in statuses if s >= 500]
    assert {405, 422} <= set(statuses)  # unexpected methods and negative data were sent
    assert scenarios["STATEFUL_TESTING"] >= 20 and sum(sent.values()) >= 1000
