"""Property-based fuzzing of the API against its own OpenAPI schema (schemathesis).

Every operation in `/schema/openapi.json` gets generated requests, valid and invalid, as
each of the four roles, against a small realistic clinic (items, locations, packs, cycles,
a recall, purchase orders). Path parameters are drawn half the time from the real objects,
so fuzzing gets past 404s. Each response must not be a 5xx, must have a documented status
code and content type, and must match the documented schema (including the problem+json
error bodies). The run is bounded and derandomized so CI is stable.

Handlers do not look at the caller's role once the guard has let it in (no per-row
permissions), so the admin run carries the depth: `STERISTOCK_FUZZ_EXAMPLES` (default 10)
valid and invalid requests per operation. The other roles get a few requests per operation
they may call (`ROLE_EXAMPLES`), and one for each they may not (the guard answers 403
before any input is read); they run on SQLite only, since guards do not touch the
database. Raise `STERISTOCK_FUZZ_EXAMPLES` for a deeper run.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kernel.auth.models import Role
from tests.test_auditor_write_operations import World

pytestmark = pytest.mark.slow  # the longest file of the suite: scheduled first

EXAMPLES = int(os.environ.get("STERISTOCK_FUZZ_EXAMPLES", "10"))
ROLE_EXAMPLES = max(1, EXAMPLES // 3)
FORBIDDEN_EXAMPLES = 1
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def seed_clinic(world: World) -> dict[str, list[Any]]:
    """A small clinic made through the API; returns real values for each path parameter."""
    locations = [world.location() for _ in range(2)]
    skus = [world.item(lot_tracked=False) for _ in range(3)]
    for sku in skus:
        world.receive(sku, locations[0], quantity=50)
        response = world.client.put(
            f"/api/v1/items/{sku}/par-levels/{locations[1]}",
            json={"par_level": 30},
            headers=world.admin,
        )
        assert response.status_code == 200, response.text
    packs = [world.pack() for _ in range(3)]
    sterile = world.sterile_pack()
    used = world.sterile_pack()
    world.post(f"/api/v1/packs/{used}/use", {"encounter_ref": "ENC-1"}, expect=200)
    cycles = [world.running_cycle([packs[0]]), world.completed_cycle([packs[1]], bi_lot="BI-1")]
    recall = world.open_recall()
    po_draft, _ = world.purchase_order()
    po_submitted, _ = world.purchase_order(submitted=True)
    sterilizers = [s["code"] for s in world.client.get(
        "/api/v1/sterilizers", headers=world.admin).json()["items"]]  # fmt: skip
    users = [world.fresh_user()]
    tray = world.tray()
    templates = [t["code"] for t in world.client.get(
        "/api/v1/set-templates", headers=world.admin).json()["items"]]  # fmt: skip
    instruments = [i["code"] for i in world.client.get(
        "/api/v1/instruments", headers=world.admin).json()["items"]]  # fmt: skip
    suppliers = [s["id"] for s in world.client.get(
        "/api/v1/suppliers", headers=world.admin).json()["items"]]  # fmt: skip
    return {
        "sku": skus,
        "location_code": locations,
        "code": [
            *packs,
            sterile,
            used,
            *locations,
            *sterilizers,
            tray,
            *templates,
            *instruments,
        ],
        "version": [1],
        "location": locations,
        "cycle_id": cycles,
        "recall_id": [recall],
        "po_id": [po_draft, po_submitted],
        "supplier_id": suppliers,
        "username": users,
        "ref": ["ENC-1"],
    }


def with_real_path_values(operation: Any, mode: GenerationMode, real: dict[str, list[Any]]):
    """Cases for one operation; half of them with path parameters from the seeded clinic."""
    names = [p.name for p in operation.path_parameters]
    known = [n for n in names if n in real]
    if not known:
        return operation.as_strategy(generation_mode=mode)
    fixed = st.fixed_dictionaries({n: st.sampled_from(real[n]) for n in known})

    def use_real(case: Any, values: dict[str, Any]) -> Any:
        case.path_parameters = {**(case.path_parameters or {}), **values}
        return case

    cases = operation.as_strategy(generation_mode=mode)
    return st.one_of(cases, st.builds(use_real, cases, fixed))


class RefusedValues(logging.Handler):
    """Catches the problem mapper's "database refused a value" warnings: the safety net
    in `kernel.problems` must never be what turns bad input into a 4xx."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("database refused a value"):
            self.messages.append(record.getMessage())


def fuzz_operation(
    operation: Any,
    session: Any,
    headers: dict[str, str],
    real: dict[str, list[Any]],
    examples: int,
    refused: RefusedValues,
) -> None:
    strategy = st.one_of(
        with_real_path_values(operation, GenerationMode.POSITIVE, real),
        with_real_path_values(operation, GenerationMode.NEGATIVE, real),
    )

    @given(case=strategy)
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=["explicit", "generate"],  # no shrinking: report the first failure as is
    )
    def check(case: Any) -> None:
        refused.messages.clear()
        response = case.call(session=session, headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        assert not refused.messages, (
            f"{refused.messages[0]}: an input type should have refused this first\n"
            f"{case.as_curl_command()}"
        )

    check()


def allowed_roles(app: Any) -> dict[tuple[str, str], frozenset[str]]:
    """(METHOD, OpenAPI path) -> the roles its guard admits, read from the route table."""
    table = {}
    for route in app.routes:
        for method, (handler, _) in getattr(route, "route_handler_map", {}).items():
            roles = frozenset(r.value for r in Role)
            for guard in handler.resolve_guards():
                guard = getattr(getattr(guard, "value", guard), "func", guard)
                if hasattr(guard, "allowed_roles"):
                    roles &= {r.value for r in guard.allowed_roles}
            table[(method, route.path_format)] = roles
    return table


@pytest.fixture
def fuzz_schema(app, client) -> Any:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = schemathesis.openapi.from_dict(response.json())
    schema.app = app
    yield schema
    asgi.shutdown_lifespans()


@pytest.fixture
def refused_values() -> Any:
    handler = RefusedValues()
    logger = logging.getLogger("steristock.errors")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


# Admin's run reaches every handler, on both databases; the other roles differ only in what
# their guards admit, which does not depend on the database.
FUZZ_RUNS = [
    pytest.param("sqlite", Role.ADMIN, id="sqlite-admin"),
    pytest.param("postgres", Role.ADMIN, id="postgres-admin", marks=pytest.mark.postgres),
    *(
        pytest.param("sqlite", role, id=f"sqlite-{role.value}")
        for role in (Role.PURCHASING, Role.MA, Role.AUDITOR)
    ),
]


@pytest.mark.parametrize(("backend", "role"), FUZZ_RUNS, indirect=["backend"])
def test_api_survives_fuzzing_of_its_own_openapi_schema(
    fuzz_schema, app, client, users, refused_values, role: Role, backend: str
) -> None:
    real = seed_clinic(World(client, users))
    headers = users.headers(role)
    roles = allowed_roles(app)
    failures: list[str] = []
    started = time.monotonic()
    operations = 0
    for result in fuzz_schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/auth/logout":
            continue  # would revoke the token the rest of the run uses; see test_auth
        operations += 1
        allowed = role.value in roles[(operation.method.upper(), operation.path)]
        if not allowed:
            examples = FORBIDDEN_EXAMPLES
        else:
            examples = EXAMPLES if role == Role.ADMIN else ROLE_EXAMPLES
        try:
            with asgi.get_client(app) as session:
                fuzz_operation(operation, session, headers, real, examples, refused_values)
        except (Exception, FailureGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    elapsed = time.monotonic() - started
    print(f"fuzzed {operations} operations as {role.value} on {backend} in {elapsed:.1f}s")
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)


# Request inputs the rule below does not apply to, and why.
UNCHECKED_INPUTS = {
    # Hashed, never stored or shown: any character may be in a password.
    "TokenRequest.password",
    "UserCreate.password",
    "UserUpdate.password",
    # Any scanned text at all: the resolver answers 404 naming it, NUL and binary included
    # (tests/steristock/test_scan_endpoint.py).
    "GET /api/v1/scan query:code",
    # A decimal: `inventory.catalogue.clean_unit_cost` bounds it (0..999999.9999, 4 places).
    "ItemCreate.unit_cost",
    "ItemUpdate.unit_cost",
    # msgspec checks these (Text(2000, ...) in a union, PackCode items); Litestar's OpenAPI
    # generator drops constraints inside unions with other types and inside arrays.
    "AmendmentIn.value",
    "CycleStart.packs[]",
    "UserCreate.sites[]",  # site codes: Text(20, min_length=1) items, checked by msgspec
    "UserUpdate.sites[]",
    "WebhookCreate.kinds[]",  # HookKind items: Text(40, pattern ^[a-z_]+$), checked by msgspec
    # An uploaded CSV file: read up to 5 MB (413 beyond), NUL refused as "not a text file".
    "CsvUpload.file",
    # A cycle's attachment or a sterilizer's record: read up to 10 MB (413 beyond), its
    # type sniffed from the bytes (binary is what a photo is).
    "AttachmentUpload.file",
    "RecordUpload.file",
    # A multipart form field: `api/cycle_records.py` refuses more than 40 characters or
    # anything but a sterilizer code's characters (422) before looking it up.
    "RecordUpload.sterilizer",
    # A tray photo: read up to 5 MB (413 beyond), decoded as an image or refused (422).
    "PhotoUpload.file",
}


def unbounded_inputs(openapi: dict[str, Any]) -> list[str]:
    """Request strings without a length bound or that admit NUL; integers without a max."""
    components = openapi["components"]["schemas"]
    found: list[str] = []

    def walk(schema: dict[str, Any], where: str, inherited: dict[str, Any], seen: frozenset):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(components[name], name, {}, seen | {name})
            return
        here = {**inherited, **{k: v for k, v in schema.items() if k != "oneOf"}}
        for sub in schema.get("oneOf", []) + schema.get("anyOf", []):
            walk(sub, where, here, seen)
        types = schema.get("type")
        types = types if isinstance(types, list) else [types]
        if where in UNCHECKED_INPUTS:
            pass
        elif "string" in types and not ({"enum", "const"} & here.keys()):
            if here.get("format") not in ("date", "date-time", "uuid"):
                pattern = here.get("pattern")
                printable = pattern is not None and re.search(pattern, "a\x00b") is None
                bounded = "maxLength" in here or (
                    pattern is not None and re.search(pattern, "a" * 10_000) is None
                )
                if not (printable and bounded):
                    found.append(f"{where}: {json.dumps(here)}")
        elif "integer" in types and not ({"maximum", "exclusiveMaximum"} & here.keys()):
            found.append(f"{where}: integer without a maximum")
        for name, prop in schema.get("properties", {}).items():
            walk(prop, f"{where}.{name}", {}, seen)
        if "array" in types:
            walk(schema.get("items", {}), f"{where}[]", {}, seen)

    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for param in operation.get("parameters", []):
                where = f"{method.upper()} {path} {param['in']}:{param['name']}"
                walk(param["schema"], where, {}, frozenset())
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content["schema"], f"{method.upper()} {path} body", {}, frozenset())
    return sorted(set(found))


def test_every_request_input_is_bounded_and_refuses_nul(client) -> None:
    """The root cause of most fuzzing finds: an unbounded or NUL-accepting input (NUL is
    a PostgreSQL error, a huge id an overflow). Use the types in `kernel.fields`."""
    openapi = client.get("/schema/openapi.json").json()
    assert not unbounded_inputs(openapi), "\n".join(unbounded_inputs(openapi))


def test_error_responses_are_documented_as_problem_json(client) -> None:
    openapi = client.get("/schema/openapi.json").json()
    problem = openapi["components"]["schemas"]["ProblemDetails"]
    assert {"status", "title", "detail"} <= set(problem["required"])
    assert "errors" in problem["properties"]
    for path, operations in openapi["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )
            assert "401" in operation["responses"], (method, path)
            if operation.get("parameters") or operation.get("requestBody"):
                assert {"400", "422"} <= operation["responses"].keys(), (method, path)
