"""The REST API on really trained, really published models: health and readiness, the models and
their schemas, predictions identical to the pipeline's own in-process, explanations, auth,
plain-words 422s, no traceback in a 500, the prediction log, and a reload that moves an
alias-following publication while concurrent requests keep being answered (admin reload and
SIGHUP to a real `kaizen serve`)."""

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import registry
from services.automl import tracking
from services.config import Settings
from tests.support.actors import OPERATOR
from tests.support.registry import TrainedHome, copy_home
from tests.support.serving import (
    Keys,
    free_port,
    home_env,
    in_process,
    on_loopback,
    promote,
    publish_models,
    serving_app,
    wait_ready,
)

MAX_ROWS, MAX_EXPLAIN = 50, 3  # small limits, so the tests reach them


@dataclass
class Served:
    client: TestClient
    keys: Keys
    settings: Settings
    engine: Engine
    trained: TrainedHome
    pipeline: Any  # the published version's pipeline, loaded here as any caller would
    holdout: pd.DataFrame  # its features

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.keys.everyone}"}

    def predict(self, rows: Any, key: str | None = None, **params: Any) -> httpx.Response:
        path = f"/v1/models/{self.trained.name}/predict"
        return self.client.post(path, json={"rows": rows}, headers=self.auth(key), params=params)


@pytest.fixture(scope="module")
def served(trained: TrainedHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One published installation and its app for the module (the models load once)."""
    with home_env(tmp_path_factory.mktemp("serving")) as settings:
        engine = copy_home(trained, settings)
        keys = publish_models(engine, settings, trained)
        version = _version(engine, settings, trained.name, trained.versions["dt"])
        pipeline = tracking.load_pipeline(settings, version.source, version.sha256 or "")
        holdout, _ = tracking.load_split(settings, version.run_id or "")
        features = holdout.drop(columns=["target"])
        app = serving_app(engine, settings, max_rows=MAX_ROWS, max_explain_rows=MAX_EXPLAIN)
        with in_process(app) as client:
            yield Served(client, keys, settings, engine, trained, pipeline, features)


def _version(engine: Engine, settings: Settings, name: str, version: int) -> Any:
    with Session(engine) as session:
        return registry.get_version(
            session=session, settings=settings, actor=OPERATOR, name=name, version=version
        )


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows as JSON objects, every float exact (json writes the shortest repr)."""
    return json.loads(json.dumps(frame.to_dict(orient="records")))


def test_health_and_readiness_are_open_and_name_the_loaded_models(served: Served) -> None:
    assert served.client.get("/health").json() == {"status": "ok"}
    ready = served.client.get("/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] is True and body["not_loaded"] == {}
    assert body["models"] == sorted([served.trained.name, served.trained.other])


def test_models_list_what_the_key_may_call(served: Served) -> None:
    everyone = served.client.get("/v1/models", headers=served.auth()).json()
    assert [(m["name"], m["version"], m["alias"], m["task"]) for m in everyone] == [
        (served.trained.name, served.trained.versions["dt"], "production", "binary"),
        (served.trained.other, 1, None, "binary"),
    ]
    scoped = served.client.get("/v1/models", headers=served.auth(served.keys.other_only))
    assert [m["name"] for m in scoped.json()] == [served.trained.other]


def test_schema_has_every_column_typed_with_a_typical_example(served: Served) -> None:
    answer = served.client.get(f"/v1/models/{served.trained.name}/schema", headers=served.auth())
    schema = answer.json()
    assert (schema["task"], schema["target"], schema["classes"]) == ("binary", "target", [0, 1])
    columns = {c["name"]: c for c in schema["columns"]}
    assert list(columns) == list(served.holdout.columns)
    radius = columns["mean radius"]
    assert radius["kind"] == "number" and radius["required"] is True
    assert radius["minimum"] < radius["example"] < radius["maximum"]
    first_row = served.holdout.iloc[0]
    assert any(c["example"] != first_row[n] for n, c in columns.items())


def test_openapi_shows_each_models_real_fields_and_an_example_row(served: Served) -> None:
    document = served.client.get("/openapi.json").json()
    operation = document["paths"][f"/v1/models/{served.trained.name}/predict"]["post"]
    assert operation["security"] == [{"api_key": []}]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = document["components"]["schemas"][body.rsplit("/", 1)[1]]
    row_ref = request["properties"]["rows"]["items"]["$ref"]
    row = document["components"]["schemas"][row_ref.rsplit("/", 1)[1]]
    assert row["properties"]["mean radius"]["type"] == "number"
    assert row["additionalProperties"] is False and "mean radius" in row["required"]
    assert set(row["examples"][0]) == set(served.holdout.columns)
    assert served.client.get("/docs").status_code == 200


def test_predictions_are_the_pipelines_own_for_one_row_and_a_batch(served: Served) -> None:
    loaded = served.client.app.state.server.models.state.loaded  # type: ignore[attr-defined]
    assert loaded[served.trained.name].road is not None  # what is compared is the fast road
    for frame in (served.holdout.iloc[:1], served.holdout.iloc[:MAX_ROWS]):
        answer = served.predict(_rows(frame))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["model"], body["version"]) == (
            served.trained.name,
            served.trained.versions["dt"],
        )
        assert body["predictions"] == served.pipeline.predict(frame).tolist()
        expected = np.asarray(served.pipeline.predict_proba(frame))
        assert np.array_equal(np.asarray(body["probabilities"]), expected)
        assert body["classes"] == [0, 1]
        _check_warnings(served, frame, body["warnings"])


def _check_warnings(served: Served, frame: pd.DataFrame, warnings: list[Any]) -> None:
    """Each warned row is outside the training's 1st-99th percentile of its column, and each
    row outside is warned about (the batch's holdout rows have a few in their tails)."""
    schema = served.client.get(
        f"/v1/models/{served.trained.name}/schema", headers=served.auth()
    ).json()
    outside = {}
    for column in schema["columns"]:
        values = frame[column["name"]].to_numpy()
        low = np.flatnonzero(values < column["minimum"]).tolist()
        high = np.flatnonzero(values > column["maximum"]).tolist()
        outside.update({(column["name"], "below"): low, (column["name"], "above"): high})
    warned = {(w["column"], w["problem"].split()[0]): w["rows"] for w in warnings}
    assert warned == {where: rows for where, rows in outside.items() if rows}


def test_out_of_range_values_are_answered_with_a_warning(served: Served) -> None:
    schema = served.client.get(
        f"/v1/models/{served.trained.name}/schema", headers=served.auth()
    ).json()
    typical = {c["name"]: c["example"] for c in schema["columns"]}  # medians: in range
    body = served.predict([typical, typical | {"mean radius": 1_000.0}]).json()
    assert len(body["predictions"]) == 2
    assert body["warnings"] == [
        {"column": "mean radius", "problem": body["warnings"][0]["problem"], "rows": [1]}
    ]
    assert "above the training range" in body["warnings"][0]["problem"]


def test_explain_adds_each_rows_top_contributions(served: Served) -> None:
    rows = _rows(served.holdout.iloc[:2])
    body = served.predict(rows, explain="true").json()
    assert len(body["explanations"]) == 2
    for row, contributions in zip(rows, body["explanations"], strict=True):
        assert 1 <= len(contributions) <= 5
        for item in contributions:
            assert item["name"] in row and math.isfinite(item["contribution"])
            assert item["value"] == pytest.approx(row[item["name"]], rel=1e-6)
        sizes = [abs(c["contribution"]) for c in contributions]
        assert sizes == sorted(sizes, reverse=True)
    too_many = served.predict(_rows(served.holdout.iloc[: MAX_EXPLAIN + 1]), explain="true")
    assert too_many.status_code == 422
    assert f"at most {MAX_EXPLAIN} rows" in too_many.json()["detail"][0]["problem"]


def test_a_missing_or_unknown_key_is_401_and_a_key_for_other_models_403(served: Served) -> None:
    path = f"/v1/models/{served.trained.name}/predict"
    rows = {"rows": _rows(served.holdout.iloc[:1])}
    for headers in ({}, {"Authorization": "Bearer kz_not-a-key"}, {"Authorization": "Basic x"}):
        answer = served.client.post(path, json=rows, headers=headers)
        assert answer.status_code == 401, headers
        assert answer.headers["www-authenticate"].startswith("Bearer")
    for call in (
        lambda h: served.client.post(path, json=rows, headers=h),
        lambda h: served.client.get(f"/v1/models/{served.trained.name}/schema", headers=h),
    ):
        assert call(served.auth(served.keys.other_only)).status_code == 403
    assert served.client.post("/v1/admin/reload", headers=served.auth()).status_code == 403
    assert served.client.post("/v1/models/nothing/predict", json=rows).status_code == 401
    answer = served.client.post("/v1/models/nothing/predict", json=rows, headers=served.auth())
    assert answer.status_code == 404


def _problems(answer: httpx.Response) -> list[tuple[str | None, int | None, str]]:
    assert answer.status_code == 422, answer.text
    return [(p["column"], p["row"], p["problem"]) for p in answer.json()["detail"]]


def test_invalid_rows_are_422_naming_the_row_column_and_problem(served: Served) -> None:
    good = _rows(served.holdout.iloc[:2])
    missing = [good[0], {k: v for k, v in good[1].items() if k != "mean texture"}]
    assert _problems(served.predict(missing)) == [
        ("mean texture", 1, "is missing; the model needs a value here")
    ]
    wrong = [good[0] | {"mean area": "large"}]
    assert _problems(served.predict(wrong)) == [("mean area", 0, "must be a number, not 'large'")]
    unknown = [good[0] | {"favourite colour": "blue"}]
    assert _problems(served.predict(unknown)) == [
        ("favourite colour", 0, "is not a column of this model")
    ]
    huge = [good[0] | {"mean area": 1e39}]
    assert _problems(served.predict(huge)) == [
        ("mean area", 0, "must be at most 3.403e+38; no model takes a larger number")
    ]
    overflowing = [good[0], good[1] | {"mean smoothness": 3e38}]  # overflows once scaled
    (column, position, problem) = _problems(served.predict(overflowing))[0]
    assert (column, position) == ("mean smoothness", 1) and "overflows" in problem
    null = [good[0] | {"mean area": None}]
    assert "must not be null" in _problems(served.predict(null))[0][2]
    too_many = _problems(served.predict(good * (MAX_ROWS // 2 + 1)))
    assert too_many == [(None, None, f"rows: at most {MAX_ROWS} rows in one request; send fewer")]
    assert _problems(served.predict([])) == [(None, None, "rows: send at least one row")]


def test_infinity_and_nan_are_refused(served: Served) -> None:
    row = _rows(served.holdout.iloc[:1])[0]
    path = f"/v1/models/{served.trained.name}/predict"
    for token in ("Infinity", "-Infinity", "NaN", "1e999"):
        text = json.dumps({"rows": [row | {"mean area": "TOKEN"}]}).replace('"TOKEN"', token)
        headers = served.auth() | {"content-type": "application/json"}
        answer = served.client.post(path, content=text, headers=headers)
        (column, position, problem) = _problems(answer)[0]
        assert (column, position) == ("mean area", 0) and "finite number" in problem, token


def test_a_failure_answers_500_without_a_traceback(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> Any:
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr("services.serving.routes.predict", broken)
    answer = served.predict(_rows(served.holdout.iloc[:1]))
    assert answer.status_code == 500
    assert answer.json() == {"detail": "internal error; see the server log"}


def test_ignored_unknown_columns_and_the_prediction_log(
    settings: Settings, trained: TrainedHome
) -> None:
    engine = copy_home(trained, settings)
    keys = publish_models(engine, settings, trained)
    app = serving_app(engine, settings, unknown_columns="ignore", log_predictions=True)
    with in_process(app) as client:
        schema = client.get(
            f"/v1/models/{trained.name}/schema", headers={"Authorization": f"Bearer {keys.admin}"}
        ).json()
        example = {c["name"]: c["example"] for c in schema["columns"]}
        path = f"/v1/models/{trained.name}/predict"
        headers = {"Authorization": f"Bearer {keys.admin}"}
        answer = client.post(path, json={"rows": [example | {"note": "x"}]}, headers=headers)
        assert answer.status_code == 200, answer.text
        reordered = dict(reversed(list(example.items())))
        again = client.post(path, json={"rows": [reordered]}, headers=headers)
    lines = [
        json.loads(line)
        for file in sorted((settings.home / "predictions").glob("predictions-*.jsonl"))
        for line in file.read_text().splitlines()
    ]
    assert len(lines) == 2
    first, second = lines
    assert (first["model"], first["version"], first["rows"]) == (
        trained.name,
        trained.versions["dt"],
        1,
    )
    assert first["predictions"] == answer.json()["predictions"] == again.json()["predictions"]
    assert first["inputs_sha256"] == second["inputs_sha256"]  # key order does not matter
    assert first["latency_ms"] > 0 and isinstance(first["key_id"], int)
    assert len(first["inputs_sha256"]) == 64


def test_reload_moves_an_alias_publication_while_requests_keep_succeeding(
    settings: Settings, trained: TrainedHome
) -> None:
    engine = copy_home(trained, settings)
    keys = publish_models(engine, settings, trained)
    dt, lr = trained.versions["dt"], trained.versions["lr"]
    row = _example_row(engine, settings, trained)
    with on_loopback(serving_app(engine, settings)) as base:
        answers = _hammer(
            base,
            keys.everyone,
            trained.name,
            row,
            while_doing=lambda: _switch(base, keys.admin, engine, settings, trained.name, lr),
        )
        models = httpx.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {keys.admin}"})
    failures = [a for a in answers if a[0] != 200]
    assert failures == []
    versions = [v for _, v in answers]
    assert set(versions) == {dt, lr} and versions[-1] == lr
    assert {m["name"]: m["version"] for m in models.json()}[trained.name] == lr


def _example_row(engine: Engine, settings: Settings, trained: TrainedHome) -> dict[str, Any]:
    version = _version(engine, settings, trained.name, trained.versions["dt"])
    holdout, _ = tracking.load_split(settings, version.run_id or "")
    return _rows(holdout.drop(columns=["target"]).iloc[:1])[0]


def _switch(
    base: str, admin: str, engine: Engine, settings: Settings, name: str, version: int
) -> None:
    with Session(engine) as session:
        promote(session, settings, name, version)
    answer = httpx.post(
        f"{base}/v1/admin/reload", headers={"Authorization": f"Bearer {admin}"}, timeout=120
    )
    assert answer.status_code == 200 and answer.json()["changed"] == [name], answer.text


def _hammer(
    base: str, key: str, name: str, row: dict[str, Any], while_doing: Any
) -> list[tuple[int, int | None]]:
    """Four clients predicting without pause before, during and shortly after `while_doing`."""
    answers: list[tuple[int, int | None]] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as http:
            while not stop.is_set():
                answer = http.post(f"/v1/models/{name}/predict", json={"rows": [row]})
                version = answer.json().get("version") if answer.status_code == 200 else None
                answers.append((answer.status_code, version))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        while_doing()
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    return answers


def test_kaizen_serve_reloads_on_sighup(settings: Settings, trained: TrainedHome) -> None:
    engine = copy_home(trained, settings)
    keys = publish_models(engine, settings, trained)
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "kaizen"), "serve", "--port", str(port)],
        env=os.environ | {"KAIZEN_HOME": str(settings.home)},
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {keys.admin}"}
    try:
        _wait_listening(base, server)
        wait_ready(lambda path: httpx.get(base + path))
        with Session(engine) as session:
            promote(session, settings, trained.name, trained.versions["lr"])
        server.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 120
        while _served_version(base, headers, trained.name) != trained.versions["lr"]:
            assert time.monotonic() < deadline, "SIGHUP did not move the publication"
            time.sleep(0.3)
        assert server.poll() is None  # reloaded, not stopped
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def _wait_listening(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/health")
            return
        except httpx.TransportError:
            if server.poll() is not None or time.monotonic() > deadline:
                errors = server.stderr.read().decode() if server.stderr else ""
                raise AssertionError(f"kaizen serve did not start: {errors[-2000:]}") from None
            time.sleep(0.2)


def _served_version(base: str, headers: dict[str, str], name: str) -> int | None:
    models = httpx.get(f"{base}/v1/models", headers=headers).json()
    return next((m["version"] for m in models if m["name"] == name), None)
