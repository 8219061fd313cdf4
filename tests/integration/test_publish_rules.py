"""Who may publish what (analysts their projects' models, admins any, viewers none), what is
refused in words, publishing without a container engine, and the publish job the page runs."""

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import audit, publish
from services.access import Actor
from services.config import Settings
from services.errors import Forbidden, InvalidInput, NotFound
from services.models import JobState, Role
from services.serving import bundle
from services.serving_models import PublicationPublic
from tests.support.actors import OPERATOR, PROJECT
from tests.support.jobs import wait_finished
from tests.support.registry import TrainedHome, copy_home, person


@pytest.fixture
def engine(settings: Settings, trained: TrainedHome) -> Engine:
    return copy_home(trained, settings)


def _publish(
    session: Session,
    settings: Settings,
    name: str,
    actor: Actor = OPERATOR,
    **given: object,
) -> PublicationPublic:
    return publish.publish(session=session, settings=settings, actor=actor, name=name, **given)  # type: ignore[arg-type]


def test_analysts_publish_their_projects_models_admins_any_viewers_none(
    session: Session, settings: Settings, trained: TrainedHome, tmp_path: Path
) -> None:
    ana = person(session, "ana", Role.analyst, PROJECT)
    olga = person(session, "olga", Role.analyst)
    vic = person(session, "vic", Role.viewer, PROJECT)
    dt = trained.versions["dt"]
    with pytest.raises(Forbidden, match="publish models"):
        _publish(session, settings, trained.name, actor=vic, version=dt)
    for name in (trained.name, trained.other):
        with pytest.raises(NotFound):  # another project's model is as unknown as a missing one
            _publish(session, settings, name, actor=olga, version=1)
    with pytest.raises(NotFound):
        _publish(session, settings, trained.other, actor=ana, version=1)

    ours = _publish(
        session, settings, trained.name, actor=ana, version=dt, bundle_dir=tmp_path / "a"
    )
    theirs = _publish(session, settings, trained.other, version=1, bundle_dir=tmp_path / "t")
    assert ours.created_by == "ana" and theirs.project_id == trained.other_project
    assert [p.model_name for p in publish.list_publications(session=session, actor=ana)] == [
        trained.name
    ]
    assert [p.model_name for p in publish.list_publications(session=session, actor=vic)] == [
        trained.name
    ]
    assert publish.list_publications(session=session, actor=olga) == []
    assert len(publish.list_publications(session=session, actor=OPERATOR)) == 2

    with pytest.raises(NotFound):
        publish.unpublish(session=session, actor=ana, name=trained.other)
    with pytest.raises(Forbidden):
        publish.unpublish(session=session, actor=vic, name=trained.name)
    removed = publish.unpublish(session=session, actor=ana, name=trained.name)
    assert removed.id == ours.id and (tmp_path / "a" / "model.pkl").is_file()  # files stay
    assert [p.model_name for p in publish.served_publications(session)] == [trained.other]
    event = audit.list_events(session=session, actor=OPERATOR, action="model.unpublished")[0]
    assert (event.actor, event.subject) == ("ana", trained.name)


def test_what_cannot_be_published_is_refused_in_words(
    session: Session, settings: Settings, trained: TrainedHome, tmp_path: Path
) -> None:
    dt = trained.versions["dt"]
    for given in ({}, {"version": dt, "alias": "production"}):
        with pytest.raises(InvalidInput, match="a version number or an alias"):
            _publish(session, settings, trained.name, **given)
    with pytest.raises(InvalidInput, match="not one of the aliases"):
        _publish(session, settings, trained.name, alias="prod")
    with pytest.raises(NotFound, match="no version 99"):
        _publish(session, settings, trained.name, version=99)
    with pytest.raises(InvalidInput, match="is not an image tag"):
        _publish(session, settings, trained.name, version=dt, image="Not A Tag")
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    with pytest.raises(InvalidInput, match="holds no Kaizen bundle"):
        _publish(session, settings, trained.name, version=dt, bundle_dir=precious)
    assert [p.name for p in precious.iterdir()] == ["thesis.txt"]
    with pytest.raises(InvalidInput, match="holds no Kaizen bundle"):
        _publish(session, settings, trained.name, version=dt, bundle_dir=precious / "thesis.txt")
    assert (precious / "thesis.txt").read_text() == "years of work"
    assert publish.served_publications(session) == []


def test_without_a_container_engine_the_bundle_is_written_and_the_reason_given(
    session: Session,
    settings: Settings,
    trained: TrainedHome,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings, "container_engine", "none")
    published = _publish(
        session,
        settings,
        trained.name,
        version=trained.versions["dt"],
        image="kaizen/cancer:1",
        bundle_dir=tmp_path / "b",
    )
    assert published.image is None and published.docker_run is None
    assert published.image_note == (
        "The image was not built: image building is turned off (KAIZEN_CONTAINER_ENGINE=none)."
    )
    assert bundle.is_bundle(tmp_path / "b")


@pytest.mark.real_jobs
def test_the_publish_job_publishes_for_the_page(
    session: Session, settings: Settings, trained: TrainedHome, tmp_path: Path
) -> None:
    ana = person(session, "ana", Role.analyst, PROJECT)
    lr = trained.versions["lr"]
    with pytest.raises(NotFound):  # checked before anything is queued
        publish.start_publishing(
            session=session, settings=settings, actor=ana, name=trained.other, version=1
        )
    job = publish.start_publishing(
        session=session,
        settings=settings,
        actor=ana,
        name=trained.name,
        version=lr,
        bundle_dir=tmp_path / "b",
    )
    assert (job.kind, job.owner, job.project_id) == ("publish", "ana", PROJECT)
    done = wait_finished(session, job.id, 120)
    assert done.state is JobState.succeeded, done.error
    result = publish.publication_result(done)
    assert result is not None and (result.model_name, result.version) == (trained.name, lr)
    assert publish.served_publications(session)[0].bundle_dir == str(tmp_path / "b")
    assert bundle.read_bundle(tmp_path / "b").version == lr
