"""schemathesis against the app's own OpenAPI document, in-process (the WSGI app, no server).

Every operation, as an agent and as a client contact, with every check schemathesis has
(server errors, response schema and status conformance, "valid request rejected",
"invalid request accepted", …), plus a stateful run that follows the document's links
(create a ticket, then read, edit, reply to, tag and archive it). A fixed seed and a
bounded number of examples keep a run reproducible and short.
"""

from __future__ import annotations

import json
import uuid

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import negative_data_rejection

from helpdesk import services
from helpdesk.models import APIKey
from tests import factories

#: Examples per operation and role; the whole module stays well under a minute per database.
MAX_EXAMPLES = 25
SEED = 20261201
HYPOTHESIS = dict(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)

WSGI_APP = get_wsgi_application()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # schemathesis calls the WSGI app itself, not through Django's test client: like the
    # test client, keep Django from closing the test's connection (and its transaction)
    # at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(db, settings):
    """Rows for the fuzzer to hit: two clients, departments, projects, tickets with replies."""
    settings.HELPDESK = {"THROTTLE_RATES": {"anon": None, "user": None, "upsert": None}}
    cache.clear()
    agent = factories.AgentFactory()
    contact = factories.ContactFactory()
    other = factories.ClientFactory()
    department = factories.DepartmentFactory(is_default=True)
    factories.ProjectFactory(client=contact.client)
    for client in (contact.client, other):
        for n in range(3):
            ticket = services.ticket_create(subject=f"Ticket {n}", message="Text", department=department,
                                            client=client, creator=agent, silent=True)
            services.reply_post(ticket=ticket, author=agent, text="An answer", silent=True)
    project = factories.ProjectFactory(client=other)
    return {"agent": agent, "contact": contact.user, "department": department.pk, "client": other.pk,
            "project": project.pk, "contact_client": contact.client.pk, "user": contact.user.pk,
            "staff": agent.pk}


def _schema(user, world):
    _row, key = APIKey.objects.create_key(user=user, name="fuzz")
    headers = {"Authorization": f"Bearer {key}"}
    config = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {
        # 413 is a rejection too: a form with more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields.
        "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 412, 413, 415, 422, 428, 429, "5xx"],
    }}})
    schema = schemathesis.openapi.from_wsgi("/api/schema", WSGI_APP, headers=headers, config=config)
    schema.world = world
    schema.config.update(base_url="http://testserver")

    class KeyAuth:
        """The user's API key, as schemathesis' auth (so its auth checks know it is real)."""

        def get(self, case, context):
            return key

        def set(self, case, data, context):
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"

    schema.auth()(KeyAuth)
    return schema


@pytest.fixture
def agent_schema(fuzz_world):
    return _schema(fuzz_world["agent"], fuzz_world)


@pytest.fixture
def contact_schema(fuzz_world):
    return _schema(fuzz_world["contact"], fuzz_world)


def _fresh_keys(case, positive):
    """What a fuzzer cannot know about the request headers of a write."""
    headers = case.headers or {}
    # Each generated request is a new request: a reused random Idempotency-Key on another
    # body is rightly a 422 (a negative case keeps its key: it may be the invalid part).
    if positive and "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = uuid.uuid4().hex
    # A precondition names the ticket's current ETag or date, which a generated value
    # cannot: "*" (the ticket exists) is the one always true.
    if "If-Match" in headers:
        headers["If-Match"] = "*"
    headers.pop("If-Unmodified-Since", None)


#: Body fields naming rows: the document says "an id", not which ids exist.
_ROW_FIELDS = {"ticket_categoryid": "department", "ticket_clientid": "client", "ticket_projectid": "project"}


def _real_rows(case, world, contact):
    """A valid request names rows that exist: give positive cases the world's ids."""
    if case.path.endswith("/merge") and isinstance(case.body, dict) and "target" in case.body:
        # A merge needs two existing tickets, neither merged yet (a merged one is closed and
        # linked for good): state no schema can state. Each positive case merges a fresh pair.
        from helpdesk.models import Client, Department

        pair = [services.ticket_create(subject=f"Duplicate {n}", message="Text",
                                       department=Department.objects.get(pk=world["department"]),
                                       client=Client.objects.get(pk=world["contact_client"]),
                                       creator=world["agent"], silent=True) for n in (1, 2)]
        case.path_parameters = {**(case.path_parameters or {}), "id": pair[0].pk}
        case.body["target"] = pair[1].pk
    if isinstance(case.body, dict):
        for field, row in _ROW_FIELDS.items():
            if case.body.get(field) is not None:
                case.body[field] = world["contact_client" if contact and row == "client" else row]
        if (contact or case.method.upper() == "PATCH") and case.body.get("ticket_projectid") is not None:
            # The world's project belongs to one client; an edited ticket may be another's.
            case.body.pop("ticket_projectid")
        # A user id names an existing user; an assignee must be active staff too.
        if isinstance(case.body.get("requester"), int):
            case.body["requester"] = world["user"]
        if case.body.get("assignee_ids"):
            case.body["assignee_ids"] = [world["staff"]]
        # No NUL in metadata's keys: OpenAPI 3.0 has no propertyNames to say so.
        if isinstance(case.body.get("metadata"), dict):
            case.body["metadata"] = _no_nul_keys(case.body["metadata"])
        # A form's metadata is the JSON text of an object, which no pattern can say.
        if isinstance(case.body.get("metadata"), str) and case.body["metadata"].strip():
            case.body["metadata"] = json.dumps({"text": case.body["metadata"].replace("\x00", "")})


def _no_nul_keys(value):
    if isinstance(value, dict):
        return {key.replace("\x00", ""): _no_nul_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_no_nul_keys(item) for item in value]
    return value


def _sent_empty(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_sent_empty(item) for item in value)
    return value is None or value == "" or value == {}


def _sends_an_allowed_empty_value(schema, operation, case) -> bool:
    """Whether a query parameter that the document marks ``allowEmptyValue`` goes out empty."""
    raw = schema.raw_schema["paths"].get(operation.path, {}).get(operation.method.lower(), {})
    allowed = {p["name"] for p in raw.get("parameters", []) if p.get("in") == "query" and p.get("allowEmptyValue")}
    return any(name in allowed and _sent_empty(value) for name, value in (case.query or {}).items())


def fuzz(schema, contact=False) -> list[str]:
    """Every operation in both generation modes; returns one line per failing operation."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @seed(SEED)
            @settings(**HYPOTHESIS)
            def run(case):
                _fresh_keys(case, mode is GenerationMode.POSITIVE)
                excluded = []
                if mode is GenerationMode.POSITIVE:
                    _real_rows(case, schema.world, contact)
                elif _sends_an_allowed_empty_value(schema, operation, case):
                    # The request as sent is valid there: "?status=" (from a generated
                    # [""] or []) is an empty value the document allows (no filter). A
                    # negative case whose other mutation also turns valid on the wire
                    # (tags[]=true: True sent as the text "true") then gets past
                    # schemathesis' own guards, which judge each case as a whole.
                    excluded.append(negative_data_rejection)
                case.call_and_validate(excluded_checks=excluded)

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported together below
                failures.append(f"{mode.value} {operation.label}: {exc}\n" + "\n".join(
                    str(e)[:1500] for e in getattr(exc, "exceptions", ())))
    return failures


# The pytest plugin (schemathesis.pytest.from_fixture) reads a private attribute pytest 9
# no longer has; the Python API (as_strategy with Hypothesis) does the same work.


@pytest.mark.django_db
def test_agent(agent_schema):
    failures = fuzz(agent_schema)
    assert not failures, "\n\n".join(failures)


@pytest.mark.django_db
def test_contact(contact_schema):
    failures = fuzz(contact_schema, contact=True)
    assert not failures, "\n\n".join(failures)


def _stateful(schema, contact=False):
    """Follow the document's links: open a ticket, then read, edit, tag, archive it, reply
    to it and delete the reply, with every check after every step."""
    world = schema.world
    links = schema.raw_schema["paths"]["/api/tickets"]["post"]["responses"]["201"]["links"]
    assert {"get_ticket", "patch_ticket", "put_status", "post_replies"} <= set(links), links

    class Workflow(schema.as_state_machine()):
        def before_call(self, case):
            meta = case.meta
            positive = meta is None or meta.generation.mode is GenerationMode.POSITIVE
            _fresh_keys(case, positive)
            if positive:
                _real_rows(case, world, contact)

    Workflow.run(settings=settings(
        max_examples=15, stateful_step_count=6, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck),
    ))


@pytest.mark.django_db
def test_agent_stateful(agent_schema):
    _stateful(agent_schema)


@pytest.mark.django_db
def test_contact_stateful(contact_schema):
    _stateful(contact_schema, contact=True)
