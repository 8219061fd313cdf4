"""Schemathesis against the REST API's own OpenAPI document, on really published models: with
a key, every generated request gets no 5xx and an answer that fits the documented schema;
without a key, every /v1 call is 401. Bounded: a few examples per operation."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.registry import TrainedHome, copy_home
from tests.support.serving import home_env, publish_models, serving_app, wait_ready

EXAMPLES = 15  # per operation and phase: the whole file stays within about a minute
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@dataclass
class Api:
    app: FastAPI
    key: str


@pytest.fixture(scope="module")
def api(trained: TrainedHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with home_env(tmp_path_factory.mktemp("schemathesis")) as home:
        engine = copy_home(trained, home)
        keys = publish_models(engine, home, trained)
        app = serving_app(engine, home, max_rows=20, max_explain_rows=2)
        with TestClient(app) as client:  # runs the lifespan: the models load
            wait_ready(client.get)
            yield Api(app, keys.everyone)


def _operations(app: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert any(o.path.endswith("/predict") for o in operations)  # the models' typed routes
    return operations


def _run(strategy: Any, test: Callable[[schemathesis.Case], None]) -> None:
    """`test` on up to EXAMPLES cases drawn from `strategy` (derandomized: reproducible)."""
    given(case=strategy)(bounded(lambda case: test(case)))()  # a fresh function each time


bounded = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


def test_with_a_key_no_server_error_and_answers_fit_the_schema(api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.key}"}

    def valid(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    def invalid(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=[*CHECKS, negative_data_rejection])

    for operation in _operations(api.app):
        _run(operation.as_strategy(GenerationMode.POSITIVE), valid)
        if operation.method.upper() == "POST" and operation.path.endswith("/predict"):
            _run(operation.as_strategy(GenerationMode.NEGATIVE), invalid)


def test_without_a_key_every_v1_call_is_401(api: Api) -> None:
    def anonymous(case: schemathesis.Case) -> None:
        case.headers = {
            k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"
        }
        answer = case.call()
        if case.path.startswith("/v1/"):
            assert answer.status_code == 401, (case.method, case.formatted_path, answer.text)
            assert answer.headers["www-authenticate"][0].startswith("Bearer")  # lists of values
        else:
            assert answer.status_code in (200, 503)  # /health and /ready are open

    for operation in _operations(api.app):
        _run(operation.as_strategy(GenerationMode.POSITIVE), anonymous)
