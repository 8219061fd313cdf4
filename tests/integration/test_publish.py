"""Publishing really trained models: the bundle's contents and the digest check that refuses a
swapped model file; publishing twice gives the same bytes and one record; a publish that fails
half-way leaves the previous one; an alias publication pins its version and follows the alias
when published again."""

import hashlib
import json
import pickle
from importlib.metadata import version as installed
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from services import audit, publish, registry
from services.access import Actor
from services.automl import tracking
from services.config import Settings
from services.errors import InvalidInput, Unavailable
from services.serving import bundle
from services.serving.keys import create_key
from services.serving_models import Publication, PublicationPublic
from tests.support.actors import OPERATOR, PROJECT
from tests.support.registry import TrainedHome, copy_home

NOT_FOR_SERVING = {"streamlit", "ydata-profiling", "gradio", "mlflow", "shap", "plotly", "ipython"}


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


def _digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir()}


def _features(session: Session, settings: Settings, name: str, version: int) -> pd.DataFrame:
    """The holdout rows of the training behind `version`, without the target."""
    found = registry.get_version(
        session=session, settings=settings, actor=OPERATOR, name=name, version=version
    )
    holdout, _ = tracking.load_split(settings, str(found.run_id))
    return holdout.drop(columns=["target"])


def _promote(session: Session, settings: Settings, name: str, version: int) -> None:
    registry.promote(
        session=session,
        settings=settings,
        actor=OPERATOR,
        name=name,
        version=version,
        alias="production",
        reason="test",
    )


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.parent.iterdir() if p.name.startswith("."))


def test_a_bundle_holds_the_model_its_schema_pinned_requirements_and_key_hashes(
    session: Session, settings: Settings, trained: TrainedHome, tmp_path: Path
) -> None:
    dt = trained.versions["dt"]
    _, ours = create_key(session=session, actor=OPERATOR, name="ours", models=[trained.name])
    _, theirs = create_key(session=session, actor=OPERATOR, name="theirs", models=[trained.other])
    published = _publish(session, settings, trained.name, version=dt, bundle_dir=tmp_path / "b")

    chosen = registry.get_version(
        session=session, settings=settings, actor=OPERATOR, name=trained.name, version=dt
    )
    assert (published.model_name, published.version, published.alias) == (trained.name, dt, None)
    assert published.sha256 == chosen.sha256 and published.bundle_dir == str(tmp_path / "b")
    assert (published.project_id, published.created_by, published.image) == (
        PROJECT,
        "tester",
        None,
    )
    directory = tmp_path / "b"
    assert sorted(p.name for p in directory.iterdir()) == sorted(bundle.FILES)
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["sha256"] == bundle.sha256_of(directory / "model.pkl") == chosen.sha256
    assert (manifest["name"], manifest["version"], manifest["model_id"]) == (trained.name, dt, "dt")
    assert (manifest["task"], manifest["target"], manifest["classes"]) == (
        "binary",
        "target",
        [0, 1],
    )
    assert manifest["trained_by_job"] == chosen.job_id and manifest["run_id"] == chosen.run_id
    assert manifest["dataset"] == {
        "id": chosen.dataset_id,
        "name": "cancer",
        "version": 1,
        "sha256": chosen.dataset_sha256,
    }
    assert len(manifest["features"]) == 30 and "target" not in manifest["features"]

    pins = [
        line
        for line in (directory / "requirements.txt").read_text().splitlines()
        if line[:1] != "#"
    ]
    names = {line.split("==")[0].lower().replace("_", "-") for line in pins}
    assert all("==" in line for line in pins) and not names & NOT_FOR_SERVING
    assert f"scikit-learn=={installed('scikit-learn')}" in pins
    assert {"pycaret-core", "pandas", "numpy", "cloudpickle", "fastapi", "uvicorn"} <= names

    stored = (directory / "api_keys.json").read_text()
    assert [k["name"] for k in json.loads(stored)] == ["ours"]
    assert ours not in stored and theirs not in stored

    read = bundle.read_bundle(directory, published.sha256)
    assert (read.name, read.version, read.schema.name, read.schema.version) == (
        trained.name,
        dt,
        trained.name,
        dt,
    )
    assert [c.name for c in read.schema.columns] == manifest["features"]
    rows = _features(session, settings, trained.name, dt)
    original = tracking.load_pipeline(settings, chosen.source, str(chosen.sha256))
    assert list(read.pipeline.predict(rows)) == list(original.predict(rows))

    event = audit.list_events(session=session, actor=OPERATOR, action="model.published")[0]
    assert (event.subject, event.before, event.after) == (
        f"{trained.name} v{dt}",
        None,
        {"version": dt, "alias": None, "bundle_dir": str(directory), "image": None},
    )
    listed = registry.get_version(
        session=session, settings=settings, actor=OPERATOR, name=trained.name, version=dt
    )
    assert [(p["kind"], p["bundle_dir"]) for p in listed.publications] == [("api", str(directory))]


def test_a_swapped_model_file_is_refused_before_it_is_unpickled(
    session: Session, settings: Settings, trained: TrainedHome, tmp_path: Path
) -> None:
    published = _publish(
        session, settings, trained.name, version=trained.versions["dt"], bundle_dir=tmp_path / "b"
    )
    directory = tmp_path / "b"
    marker = tmp_path / "unpickled"

    class Payload:  # what a tampered file could run when unpickled
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (Path.touch, (marker,))  # type: ignore[return-value]

    genuine = {n: (directory / n).read_bytes() for n in ("model.pkl", "manifest.json")}
    (directory / "model.pkl").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(InvalidInput, match="not the one published"):
        bundle.read_bundle(directory)
    assert not marker.exists()

    # The manifest edited to match the swapped file: the publication's digest still refuses it.
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["sha256"] = bundle.sha256_of(directory / "model.pkl")
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InvalidInput, match="not the one published"):
        bundle.read_bundle(directory, published.sha256)
    assert not marker.exists()

    for name, content in genuine.items():
        (directory / name).write_bytes(content)
    assert bundle.read_bundle(directory, published.sha256).version == published.version
    (directory / "schema.json").unlink()
    with pytest.raises(InvalidInput, match="not a complete bundle"):
        bundle.read_bundle(directory)


def test_publishing_the_same_version_again_writes_the_same_bytes_and_no_new_record(
    session: Session, settings: Settings, trained: TrainedHome, tmp_path: Path
) -> None:
    dt, directory = trained.versions["dt"], tmp_path / "b"
    first = _publish(session, settings, trained.name, version=dt, bundle_dir=directory)
    before = _digests(directory)
    again = _publish(session, settings, trained.name, version=dt, bundle_dir=directory)
    assert again == first
    assert _digests(directory) == before
    assert len(session.exec(select(Publication)).all()) == 1
    assert len(audit.list_events(session=session, actor=OPERATOR, action="model.published")) == 1
    assert _leftovers(directory) == []

    # Through the alias that version holds: the same bundle, the record now follows the alias.
    _promote(session, settings, trained.name, dt)
    aliased = _publish(session, settings, trained.name, alias="production")
    assert (aliased.id, aliased.version, aliased.alias) == (first.id, dt, "production")
    assert aliased.bundle_dir == str(directory) and _digests(directory) == before


def test_a_publish_that_fails_half_way_leaves_the_previous_publication_and_bundle(
    session: Session,
    settings: Settings,
    trained: TrainedHome,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dt, lr, directory = trained.versions["dt"], trained.versions["lr"], tmp_path / "b"
    first = _publish(session, settings, trained.name, version=dt, bundle_dir=directory)
    before = _digests(directory)

    def failed_build(**_: object) -> None:
        raise Unavailable("The image build failed (no space left on device); nothing was changed.")

    monkeypatch.setattr(publish, "build_image", failed_build)
    with pytest.raises(Unavailable, match="no space left"):
        _publish(session, settings, trained.name, version=lr, image="kaizen/cancer:2")
    assert _digests(directory) == before and _leftovers(directory) == []

    def failed_audit(*_: object, **__: object) -> None:  # after the new bundle was swapped in
        raise RuntimeError("database went away")

    monkeypatch.undo()
    monkeypatch.setattr(publish.audit, "record", failed_audit)
    with pytest.raises(RuntimeError, match="went away"):
        _publish(session, settings, trained.name, version=lr)
    session.rollback()
    assert _digests(directory) == before and _leftovers(directory) == []
    kept = publish.served_publications(session)
    assert [(p.id, p.version, p.sha256) for p in kept] == [(first.id, dt, first.sha256)]


def test_an_alias_publication_pins_its_version_and_follows_the_alias_when_published_again(
    session: Session, settings: Settings, trained: TrainedHome
) -> None:
    dt, lr = trained.versions["dt"], trained.versions["lr"]
    with pytest.raises(InvalidInput, match=r"No version of .* holds 'production'"):
        _publish(session, settings, trained.name, alias="production")
    _promote(session, settings, trained.name, dt)
    pinned = _publish(session, settings, trained.name, alias="production")
    assert (pinned.version, pinned.alias) == (dt, "production")
    directory = Path(pinned.bundle_dir)
    assert directory == (settings.bundles_dir / trained.name).resolve()

    _promote(session, settings, trained.name, lr)  # the publication stays on its version
    served = publish.served_publications(session)
    assert [(p.version, p.alias) for p in served] == [(dt, "production")]
    assert bundle.read_bundle(directory).version == dt

    followed = _publish(session, settings, trained.name, alias="production")
    assert (followed.id, followed.version, followed.alias) == (pinned.id, lr, "production")
    assert bundle.read_bundle(directory).version == lr
    event = audit.list_events(session=session, actor=OPERATOR, action="model.published")[0]
    assert event.subject == f"{trained.name}@production"
    assert (event.before, event.after["version"]) == ({"version": dt, "alias": "production"}, lr)
