"""The API image for real: `kaizen publish --image` builds it with Podman from the project's
Dockerfile on the local stand-in base image; it runs as a container on a loopback port, answers
/health, and predicts exactly what the pipeline predicts in-process for the same rows."""

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import publish, registry
from services.automl import tracking
from services.config import Settings
from services.serving.keys import create_key
from tests.support.actors import OPERATOR
from tests.support.e2e import free_port
from tests.support.registry import TrainedHome, copy_home

START_SECONDS = 180.0  # the container's Python imports PyCaret and loads the model on 2 cores
ROWS = 40
Podman = Callable[..., subprocess.CompletedProcess[str]]  # the conftest's `podman` fixture


@pytest.fixture
def engine(settings: Settings, trained: TrainedHome) -> Engine:
    return copy_home(trained, settings)


@pytest.fixture
def tag(podman: Podman) -> Iterator[str]:
    """A fresh tag for the image under test, removed afterwards (its layers stay cached)."""
    name = f"localhost/kaizen-test/api:{uuid4().hex[:12]}"
    yield name
    podman("rmi", "--force", name)


def _call(url: str, body: Any = None, key: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _wait_ready(podman: Podman, container: str, base: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        try:
            if _call(f"{base}/health")[0] == 200 and _call(f"{base}/ready")[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
            pass
        state = podman("inspect", "--format", "{{.State.Status}}", container).stdout.strip()
        if state != "running":
            break
        time.sleep(1)
    logs = podman("logs", container)
    pytest.fail(f"the container did not get ready ({state}):\n{logs.stdout}{logs.stderr}")


def test_the_published_image_serves_the_models_own_predictions(
    session: Session, settings: Settings, trained: TrainedHome, podman: Podman, tag: str
) -> None:
    name, version = trained.name, trained.versions["lr"]
    _, secret = create_key(session=session, actor=OPERATOR, name="container", models=[name])
    _, elsewhere = create_key(session=session, actor=OPERATOR, name="other", models=["x"])
    started = time.monotonic()
    published = publish.publish(
        session=session, settings=settings, actor=OPERATOR, name=name, version=version, image=tag
    )
    build_seconds = time.monotonic() - started
    assert published.image == tag, published.image_note
    assert published.docker_run and published.docker_run.endswith(f"-p 8000:8000 {tag}")
    size = int(podman("image", "inspect", "--format", "{{.Size}}", tag).stdout)
    print(f"\nAPI image: built in {build_seconds:.0f} s, {size / 1e6:.0f} MB")

    found = registry.get_version(
        session=session, settings=settings, actor=OPERATOR, name=name, version=version
    )
    holdout, _ = tracking.load_split(settings, str(found.run_id))
    rows = holdout.drop(columns=["target"]).head(ROWS)
    expected = tracking.load_pipeline(settings, found.source, str(found.sha256)).predict(rows)

    port, container = free_port(), f"kaizen-test-{uuid4().hex[:12]}"
    started_run = podman("run", "-d", "--name", container, "-p", f"127.0.0.1:{port}:8000", tag)
    assert started_run.returncode == 0, started_run.stderr
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(podman, container, base)
        body = {"rows": json.loads(rows.to_json(orient="records"))}
        url = f"{base}/v1/models/{name}/predict"
        status, answer = _call(url, body, secret)
        assert status == 200, answer
        assert (answer["model"], answer["version"]) == (name, version)
        assert answer["predictions"] == expected.tolist()
        assert _call(url, body)[0] == 401
        assert _call(url, body, elsewhere)[0] == 401  # the bundle carries only this model's keys

        assert podman("exec", container, "id", "-u").stdout.strip() == "10001"
        assert podman("healthcheck", "run", container).returncode == 0
    finally:
        podman("rm", "--force", "--time", "5", container)
    assert podman("container", "exists", container).returncode != 0
