"""A served installation for the REST API's tests: the trained home copied, a version promoted
and published (one following an alias), API keys made, the app started in-process; and a real
uvicorn on a free loopback port for tests that need concurrent clients."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import publish, registry
from services.config import Settings, get_settings
from services.db import dispose_engines
from services.serving import ServingSettings
from services.serving.app import create_app
from services.serving.keys import create_key
from services.serving.sources import InstallationSource
from tests.support.actors import OPERATOR
from tests.support.registry import TrainedHome, copy_home

READY_SECONDS = 120.0  # loading two models from MLflow on a busy 2-core machine


@dataclass
class Keys:
    admin: str  # every model, and reload
    everyone: str  # every model, not admin
    other_only: str  # only the other project's model


@contextmanager
def home_env(root: Path) -> Iterator[Settings]:
    """KAIZEN_HOME at `root/home` for a block longer than one test (a module's fixture)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KAIZEN_HOME", str(root / "home"))
        patch.delenv("KAIZEN_DATABASE_URL", raising=False)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        get_settings.cache_clear()
        try:
            yield get_settings()
        finally:
            dispose_engines()
            get_settings.cache_clear()


def publish_models(engine: Engine, settings: Settings, trained: TrainedHome) -> Keys:
    """The cancer model published following 'production' (held by the decision tree), the
    other project's model pinned to its version; three keys."""
    with Session(engine, expire_on_commit=False) as session:
        promote(session, settings, trained.name, trained.versions["dt"])
        publish.publish(
            session=session,
            settings=settings,
            actor=OPERATOR,
            name=trained.name,
            alias="production",
        )
        other = registry.get_model(
            session=session, settings=settings, actor=OPERATOR, name=trained.other
        )
        publish.publish(
            session=session,
            settings=settings,
            actor=OPERATOR,
            name=trained.other,
            version=other.versions[0].version,
        )

        def key(name: str, models: list[str] | None, admin: bool = False) -> str:
            return create_key(
                session=session, actor=OPERATOR, name=name, models=models, admin=admin
            )[1]

        return Keys(
            admin=key("admin", None, admin=True),
            everyone=key("everyone", None),
            other_only=key("other", [trained.other]),
        )


def promote(session: Session, settings: Settings, name: str, version: int) -> None:
    registry.promote(
        session=session,
        settings=settings,
        actor=OPERATOR,
        name=name,
        version=version,
        alias="production",
        reason="serving tests",
    )


def serving_app(engine: Engine, settings: Settings, **options: Any) -> FastAPI:
    serving = ServingSettings(**options)
    return create_app(InstallationSource(settings, engine, serving), settings, serving)


def wait_ready(call: Any, seconds: float = READY_SECONDS) -> dict[str, Any]:
    """Polls GET /ready until it answers 200 (the models load in the background)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = call("/ready")
        if answer.status_code == 200:
            return dict(answer.json())
        if time.monotonic() > deadline:
            raise AssertionError(f"not ready after {seconds:.0f} s: {answer.json()}")
        time.sleep(0.2)


@contextmanager
def in_process(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        wait_ready(client.get)
        yield client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def on_loopback(app: FastAPI) -> Iterator[str]:
    """The app under a real uvicorn in a thread; yields its base URL once it is ready."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise AssertionError("uvicorn did not start")
            time.sleep(0.05)
        with httpx.Client(base_url=base) as client:
            wait_ready(client.get)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def copied_home(trained: TrainedHome, settings: Settings) -> Engine:
    return copy_home(trained, settings)
