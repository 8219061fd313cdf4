"""MLflow as a tracking server, as production runs it: a real `mlflow server` on loopback
(SQLite backend, artifacts proxied by the server), a real training logging to it, the registry
listing and promoting through it, and the model loaded back from its artifact store."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer
from sqlmodel import Session

from services import registry
from services.automl import tracking
from services.automl.options import TrainingOptions
from services.automl.training import start_training, training_result
from services.config import Settings
from services.models import JobState
from tests.support.actors import OPERATOR, add_file
from tests.support.e2e import free_port
from tests.support.jobs import configure, wait_finished

START_WAIT = 90.0  # s: the server creates its database on first start
TRAIN_WAIT = 180.0

pytestmark = pytest.mark.real_jobs


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real `mlflow server` in the test's directory; yields its URL and artifact store."""
    store = tmp_path / "mlflow-server"
    store.mkdir()
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        "--backend-store-uri",
        f"sqlite:///{store / 'mlflow.db'}",
        "--artifacts-destination",
        str(store / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAIZEN_", "MLFLOW_"))}
    log = store / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            command,
            cwd=store,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers in its own group, stopped together
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, server, log)
        yield url, store / "artifacts"
    finally:
        _stop(server)


def _wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mlflow server exited ({server.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    pytest.fail(f"mlflow server not healthy within {START_WAIT} s:\n{log.read_text()}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=20)


def test_training_listing_promoting_and_loading_through_a_tracking_server(
    session: Session,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mlflow_server: tuple[str, Path],
) -> None:
    url, artifacts = mlflow_server
    settings = configure(monkeypatch, mlflow_tracking_uri=url)  # job processes inherit it
    assert tracking.tracking_uri(settings) == url
    path = tmp_path / "cancer.csv"
    frame = load_breast_cancer(as_frame=True).frame
    frame.to_csv(path, index=False)
    dataset = add_file(session, settings, path, name="cancer").dataset
    options = TrainingOptions(
        dataset_id=dataset.id, target="target", include_models=["lr"], budget_seconds=90
    )
    job = start_training(session=session, settings=settings, actor=OPERATOR, options=options)
    job = wait_finished(session, job.id, TRAIN_WAIT)
    result = training_result(job)
    assert job.state is JobState.succeeded and result and result.model, job.error

    models = registry.list_models(session=session, settings=settings, actor=OPERATOR)
    assert [m.name for m in models] == ["default-cancer-target"]
    version = models[0].versions[0]
    assert (version.version, version.model_id, version.job_id) == (1, "lr", job.id)
    change = registry.promote(
        session=session,
        settings=settings,
        actor=OPERATOR,
        name=version.name,
        version=version.version,
        alias="production",
        reason="first model",
    )
    assert change.to_version == 1

    from mlflow import MlflowClient

    server = MlflowClient(tracking_uri=url, registry_uri=url)
    assert server.get_model_version_by_alias(version.name, "production").version in (1, "1")
    assert registry.get_model(
        session=session, settings=settings, actor=OPERATOR, name=version.name
    ).aliases == {"production": 1}
    assert version.sha256 is not None
    pipeline = tracking.load_pipeline(settings, version.source, version.sha256)
    rows = frame.drop(columns="target").head(20)
    assert set(pipeline.predict(rows)) <= {0, 1}
    # Everything went to the server: its artifact store holds the model, the home none.
    assert any(p.name == "model.pkl" for p in artifacts.rglob("*"))
    assert not (settings.mlflow_dir / "mlflow.db").exists()
    assert not (settings.mlflow_dir / "artifacts").exists()
