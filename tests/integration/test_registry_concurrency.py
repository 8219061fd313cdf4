"""Two admins moving the same alias at the same moment: exactly one wins, the other is told it
changed meanwhile, and the app's record and MLflow agree afterwards. On the file SQLite
database (WAL) the app uses by default, and on a real PostgreSQL server."""

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from services import registry
from services.access import Actor
from services.automl import tracking
from services.config import Settings
from services.errors import Conflict
from services.models import AliasHolder, AliasMove, PromotionRequest, PromotionState, Role
from tests.integration.test_jobs_postgres import postgres_server  # noqa: F401  (a fixture)
from tests.support.actors import PROJECT
from tests.support.jobs import configure
from tests.support.registry import TrainedHome, copy_home, person

MLFLOW_PAUSE = 0.5  # s: the winner holds its transaction open this long, so the race is real


@pytest.fixture
def engine(settings: Settings, trained: TrainedHome) -> Engine:
    return copy_home(trained, settings)


@pytest.fixture
def slow_mlflow(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """MLflow's real alias call, after a pause: the first mover is still inside its
    transaction when the second one tries. Returns the moves that reached MLflow."""
    from mlflow import MlflowClient

    real = MlflowClient.set_registered_model_alias
    reached: list[str] = []

    def slow(self: Any, name: str, alias: str, version: str) -> None:
        reached.append(version)
        time.sleep(MLFLOW_PAUSE)
        real(self, name, alias, version)

    monkeypatch.setattr(MlflowClient, "set_registered_model_alias", slow)
    return reached


def _race(engine: Engine, calls: list[Callable[[Session], Any]]) -> tuple[list[Any], list[str]]:
    """Runs the calls at once, each in its own thread and session: what succeeded, and the
    Conflict messages."""
    barrier = threading.Barrier(len(calls))
    won: list[Any] = []
    lost: list[str] = []
    failed: list[BaseException] = []

    def run(call: Callable[[Session], Any]) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                won.append(call(session))
            except Conflict as conflict:
                lost.append(str(conflict))
            except BaseException as error:  # reported below, not lost in the thread
                failed.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failed, failed
    return won, lost


def _agree(session: Session, settings: Settings, name: str, alias: str) -> int | None:
    """The version holding the alias, once the record and MLflow are seen to agree on it."""
    session.expire_all()
    row = session.exec(
        select(AliasHolder).where(AliasHolder.model_name == name, AliasHolder.alias == alias)
    ).one()
    found = tracking.client(settings).get_model_version_by_alias(name, alias)
    assert row.version == int(found.version)
    return row.version


def _promote_race(
    engine: Engine, settings: Settings, trained: TrainedHome, admins: list[Actor]
) -> tuple[list[Any], list[str]]:
    """Two admins promote different versions to 'production', both having seen revision 0."""

    def promote(admin: Actor, model: str) -> Callable[[Session], Any]:
        return lambda session: registry.promote(
            session=session,
            settings=settings,
            actor=admin,
            name=trained.name,
            version=trained.versions[model],
            alias="production",
            reason=f"{admin.username} prefers {model}",
            expected_revision=0,
        )

    return _race(engine, [promote(admins[0], "dt"), promote(admins[1], "lr")])


def _check_one_winner(
    session: Session, settings: Settings, trained: TrainedHome, won: list[Any], lost: list[str]
) -> None:
    assert len(won) == 1 and len(lost) == 1, (won, lost)
    winner = won[0]
    assert lost[0] == (
        f"The alias 'production' of {trained.name} changed meanwhile (now version "
        f"{winner.to_version} by {winner.by}). Reload and try again."
    )
    assert _agree(session, settings, trained.name, "production") == winner.to_version
    moves = session.exec(select(AliasMove)).all()
    assert [(m.to_version, m.revision) for m in moves] == [(winner.to_version, 1)]


def test_two_admins_promoting_at_once_one_wins_on_sqlite(
    engine: Engine,
    session: Session,
    settings: Settings,
    trained: TrainedHome,
    slow_mlflow: list[str],
) -> None:
    assert engine.dialect.name == "sqlite"
    admins = [person(session, "bob", Role.admin), person(session, "carol", Role.admin)]
    won, lost = _promote_race(engine, settings, trained, admins)
    _check_one_winner(session, settings, trained, won, lost)
    assert len(slow_mlflow) == 1  # the loser never reached MLflow


def test_two_admins_approving_requests_for_one_alias_at_once_one_wins(
    engine: Engine,
    session: Session,
    settings: Settings,
    trained: TrainedHome,
    slow_mlflow: list[str],
) -> None:
    ana = person(session, "ana", Role.analyst, PROJECT)
    admins = [person(session, "bob", Role.admin), person(session, "carol", Role.admin)]
    requests = [
        registry.request_promotion(
            session=session,
            settings=settings,
            actor=ana,
            name=trained.name,
            version=trained.versions[model],
            alias="production",
            reason=f"{model} is better",
        )
        for model in ("dt", "lr")
    ]

    def approve(admin: Actor, request_id: int) -> Callable[[Session], Any]:
        return lambda s: registry.approve(
            session=s, settings=settings, actor=admin, request_id=request_id
        )

    won, lost = _race(engine, [approve(a, r.id) for a, r in zip(admins, requests, strict=True)])
    _check_one_winner(session, settings, trained, won, lost)
    states = {r.id: r.state for r in session.exec(select(PromotionRequest))}
    assert sorted(states.values()) == [PromotionState.approved, PromotionState.pending]
    assert states[won[0].request_id] is PromotionState.approved


def test_two_admins_approving_the_same_request_at_once_approve_it_once(
    engine: Engine,
    session: Session,
    settings: Settings,
    trained: TrainedHome,
    slow_mlflow: list[str],
) -> None:
    ana = person(session, "ana", Role.analyst, PROJECT)
    admins = [person(session, "bob", Role.admin), person(session, "carol", Role.admin)]
    request = registry.request_promotion(
        session=session,
        settings=settings,
        actor=ana,
        name=trained.name,
        version=trained.versions["lr"],
        alias="staging",
        reason="better",
    )
    won, lost = _race(
        engine,
        [
            lambda s, admin=admin: registry.approve(  # type: ignore[misc]
                session=s, settings=settings, actor=admin, request_id=request.id
            )
            for admin in admins
        ],
    )
    assert len(won) == 1 and len(lost) == 1 and "changed meanwhile" in lost[0]
    assert _agree(session, settings, trained.name, "staging") == trained.versions["lr"]
    assert len(session.exec(select(AliasMove)).all()) == 1


@pytest.fixture
def on_postgres(
    settings: Settings,
    trained: TrainedHome,
    monkeypatch: pytest.MonkeyPatch,
    postgres_server: str,  # noqa: F811
) -> Settings:
    """The app database on the real PostgreSQL server; MLflow from the trained home."""
    from sqlalchemy import create_engine, text

    name = f"kaizen_registry_{int(time.time() * 1000)}"
    admin = create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return configure(monkeypatch, database_url=f"{postgres_server}/{name}")


def test_two_admins_promoting_at_once_one_wins_on_postgres(
    on_postgres: Settings, trained: TrainedHome, slow_mlflow: list[str]
) -> None:
    engine = copy_home(trained, on_postgres)
    assert engine.dialect.name == "postgresql"
    with Session(engine, expire_on_commit=False) as session:
        admins = [person(session, "bob", Role.admin), person(session, "carol", Role.admin)]
        won, lost = _promote_race(engine, on_postgres, trained, admins)
        _check_one_winner(session, on_postgres, trained, won, lost)
    assert len(slow_mlflow) == 1
