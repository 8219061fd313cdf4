"""The Publish page with AppTest, on really trained models: an analyst publishes a version (the
job runs for real) and reads the docker run, kaizen serve and curl lines, also after a refresh;
an admin makes an API key, sees its secret once, and revokes it; an analyst has no keys tab and
a viewer no Publish page; a file scored on the page downloads as a CSV whose formulas are
quoted, and a file without the model's columns is told which it lacks."""

import io
import json
import shlex
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sqlalchemy.engine import Engine
from sqlmodel import Session
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from services import audit, publish, registry
from services.access import Actor
from services.automl import tracking
from services.config import Settings, get_settings
from services.models import JobState
from services.serving import keys
from tests.support.actors import OPERATOR
from tests.support.jobs import wait_finished
from tests.support.registry import TrainedHome, copy_home
from tests.support.signin import app_as, literal, navigation

PUBLISH_WAIT = 180.0  # the job's start, the model's download and check, the bundle
KEY_NOTICE = "Copy it now: it is not shown again."


@pytest.fixture
def engine(settings: Settings, trained: TrainedHome, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The trained home copied; no image builds (no container engine in these tests)."""
    monkeypatch.setenv("KAIZEN_CONTAINER_ENGINE", "none")  # the job runners inherit it
    get_settings.cache_clear()
    return copy_home(trained, settings)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """What the page's download buttons would send to the browser, by file name."""
    sent: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self: Any, data: Any, mimetype: str, kind: Any, filename: str | None = None) -> str:
        if filename is not None and isinstance(data, bytes):
            sent[filename] = data
        return original(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    yield sent


def publish_page(actor: Actor, query: dict[str, str] | None = None) -> AppTest:
    at = app_as(actor, "views/publish.py", query=query, timeout=120)
    assert not at.exception
    assert at.title[0].value == "Publish"
    return at


def press(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    at.run()
    assert not at.exception
    return at


def codes(at: AppTest) -> list[str]:
    return [c.value for c in at.code]


def features(rows: int) -> pd.DataFrame:
    """Rows of the table the models were trained on, without the target."""
    return load_breast_cancer(as_frame=True).frame.drop(columns="target").head(rows)


@pytest.mark.real_jobs
def test_an_analyst_publishes_a_version_and_reads_how_to_run_and_call_it(
    session: Session,
    settings: Settings,
    engine: Engine,
    people: dict[str, Actor],
    trained: TrainedHome,
) -> None:
    name, lr = trained.name, trained.versions["lr"]
    at = publish_page(people["ana"])
    assert [t.label for t in at.tabs] == ["Publish", "Publications", "Score a file"]
    assert "Nothing of this project is published yet." in [literal(i) for i in at.info]
    at.selectbox(key="publish-model").set_value(name)
    at.selectbox(key=f"publish-ref-{name}").set_value(f"v{lr}")
    at.checkbox(key="publish-build").check()
    at.run()
    assert at.text_input(key=f"publish-tag-{name}").value == f"kaizen/{name}:v{lr}"
    press(at, "publish-go")
    job_id = int(at.query_params["job"])
    job = wait_finished(session, job_id, PUBLISH_WAIT)
    assert job.state is JobState.succeeded, job.error
    at.run()
    assert not at.exception

    assert literal(at.success[0]).startswith(f"Publish #{job_id} finished in")
    assert f"Published {name} v{lr}." in [literal(m) for m in at.markdown]
    # No container engine here: why no image, and how to build and run it elsewhere.
    notes = [literal(i) for i in at.info]
    assert "The image was not built: image building is turned off" in " ".join(notes)
    tag = f"kaizen/{name}:v{lr}"
    docker = (
        f"kaizen publish {name}:{lr} --image {tag}\n"
        f"docker run -d --name kaizen-{name} -p 8000:8000 {tag}"
    )
    home = shlex.quote(str(settings.home.resolve()))
    serve = f"KAIZEN_HOME={home} kaizen serve --host 127.0.0.1 --port 8000"
    shown = codes(at)
    assert docker in shown and serve in shown
    curl = next(c for c in shown if c.startswith("curl "))
    words = shlex.split(curl)
    assert words[:5] == [
        "curl",
        "-H",
        "Authorization: Bearer <your key>",
        "-H",
        "Content-Type: application/json",
    ]
    assert words[5] == "-d"
    assert words[7] == f"http://127.0.0.1:8000/v1/models/{name}/predict"
    row = json.loads(words[6])["rows"][0]
    assert list(row) == list(features(1).columns)  # every input column, typical values
    assert all(isinstance(v, float) for v in row.values())

    published = publish.list_publications(session=session, actor=OPERATOR)
    assert [(p.model_name, p.version, p.alias, p.image) for p in published] == [
        (name, lr, None, None)
    ]
    events = audit.list_events(session=session, actor=OPERATOR, action="model.published")
    assert [e.actor for e in events] == ["ana"]

    # A refresh (a new session at the same link) shows the same job and lines.
    again = publish_page(people["ana"], query={"job": str(job_id)})
    assert literal(again.success[0]).startswith(f"Publish #{job_id} finished in")
    assert docker in codes(again)
    assert [t.label for t in again.tabs] == ["Publish", "Publications", "Score a file"]


def test_publications_are_listed_with_unpublish(
    session: Session,
    settings: Settings,
    engine: Engine,
    people: dict[str, Actor],
    trained: TrainedHome,
) -> None:
    name, dt = trained.name, trained.versions["dt"]
    publish.publish(session=session, settings=settings, actor=OPERATOR, name=name, version=dt)
    at = publish_page(people["ana"])
    listed = next(f.value for f in at.dataframe if "bundle" in f.value.columns)
    assert listed[["model", "version", "alias", "image"]].values.tolist() == [[name, dt, "", ""]]
    assert any(c.startswith("curl ") and f"/v1/models/{name}/predict" in c for c in codes(at))
    # The pinned version is what the other tabs offer first.
    assert at.selectbox(key=f"publish-ref-{name}").value == f"v{dt}"
    press(at, f"unpublish-{name}")
    assert literal(at.success[0]).startswith(f"{name} is no longer published")
    assert publish.list_publications(session=session, actor=OPERATOR) == []
    events = audit.list_events(session=session, actor=OPERATOR, action="model.unpublished")
    assert [(e.actor, e.subject) for e in events] == [("ana", name)]


def test_an_admin_makes_a_key_sees_it_once_and_revokes_it(
    session: Session, engine: Engine, people: dict[str, Actor], trained: TrainedHome
) -> None:
    at = publish_page(people["boss"])
    assert [t.label for t in at.tabs] == ["Publish", "Publications", "Score a file", "API keys"]
    assert "No API keys yet." in [literal(i) for i in at.info]
    at.text_input(key="api-key-name").input("billing service")
    at.radio(key="api-key-scope").set_value("Only the models chosen")
    at.multiselect(key="api-key-models").set_value([trained.name])
    next(b for b in at.button if b.label == "Create key").click()
    at.run()
    assert not at.exception
    secrets = [c for c in codes(at) if c.startswith("kz_")]
    assert len(secrets) == 1
    secret = secrets[0]
    assert any(KEY_NOTICE in literal(w) for w in at.warning)
    assert literal(at.success[0]) == f"API key 1 (billing service) created for {trained.name}."
    found = keys.verify_key(session, secret)
    assert found is not None and found.models == [trained.name] and not found.admin
    table = next(f.value for f in at.dataframe if "prefix" in f.value.columns)
    assert table[["id", "name", "prefix", "may call", "admin", "state"]].values.tolist() == [
        [1, "billing service", f"{secret[:8]}…", trained.name, False, "active"]
    ]
    assert secret not in str(at.session_state.to_dict())  # nothing keeps it

    at.run()  # any next run: the secret is gone for good
    assert not [c for c in codes(at) if c.startswith("kz_")]
    assert not any(KEY_NOTICE in literal(w) for w in at.warning)

    at.selectbox(key="api-key-revoke-choice").set_value(1)
    press(at, "api-key-revoke")
    assert literal(at.success[0]).startswith("API key 1 (billing service) is revoked")
    assert keys.verify_key(session, secret) is None
    table = next(f.value for f in at.dataframe if "prefix" in f.value.columns)
    assert table["state"].tolist() == ["revoked"]
    actions = [e.action for e in audit.list_events(session=session, actor=OPERATOR)]
    assert {"api_key.created", "api_key.revoked"} <= set(actions)


def test_a_key_without_a_name_is_refused_in_words(engine: Engine, people: dict[str, Actor]) -> None:
    at = publish_page(people["boss"])
    next(b for b in at.button if b.label == "Create key").click()
    at.run()
    assert not at.exception
    assert literal(at.error[0]).startswith("Give the key a name")
    assert not [c for c in codes(at) if c.startswith("kz_")]


def test_a_viewer_has_no_publish_page(engine: Engine, people: dict[str, Actor]) -> None:
    at = app_as(people["vic"])
    assert "Publish" not in navigation(at)
    direct = app_as(people["vic"], "views/publish.py")
    assert not direct.exception
    assert direct.title[0].value == "Datasets"  # by its URL: the default page instead
    analyst = app_as(people["ana"])
    assert "Publish" in navigation(analyst)


def test_a_scored_file_downloads_with_its_formulas_quoted(
    session: Session,
    settings: Settings,
    engine: Engine,
    people: dict[str, Actor],
    trained: TrainedHome,
    downloads: dict[str, bytes],
) -> None:
    name, lr = trained.name, trained.versions["lr"]
    rows = features(12)
    source = rows.assign(note=["=1+1", "@SUM(A1)", "plain"] + ["ok"] * 9)
    at = publish_page(people["ana"])
    at.selectbox(key="score-model").set_value(name)
    at.selectbox(key=f"score-ref-{name}").set_value(f"v{lr}")
    at.run()
    at.file_uploader(key="score-upload").set_value(
        ("new patients.csv", source.to_csv(index=False).encode(), "text/csv")
    )
    at.run()
    press(at, "score-go")
    assert literal(at.success[0]) == f"Scored 12 rows with {name} v{lr}."
    preview = next(f.value for f in at.dataframe if "prediction" in f.value.columns)
    assert len(preview) == 12
    assert [b.label for b in at.download_button] == ["Download CSV", "Download Parquet"]

    scored = pd.read_csv(io.BytesIO(downloads["new-patients-scored.csv"]))
    assert scored["note"].tolist()[:3] == ["'=1+1", "'@SUM(A1)", "plain"]
    assert list(scored.columns) == [*source.columns, "prediction", "proba_0", "proba_1"]
    version = registry.get_version(
        session=session, settings=settings, actor=OPERATOR, name=name, version=lr
    )
    pipeline = tracking.load_pipeline(settings, version.source, version.sha256 or "")
    expected = pipeline.predict(rows)
    assert scored["prediction"].tolist() == list(expected)
    parquet = pd.read_parquet(io.BytesIO(downloads["new-patients-scored.parquet"]))
    assert parquet["note"].tolist()[0] == "=1+1"  # Parquet keeps values as they are
    assert parquet["prediction"].tolist() == list(expected)

    # A file without some of the model's columns: told which, nothing to download.
    at.file_uploader(key="score-upload").set_value(
        (
            "short.csv",
            rows.drop(columns=["mean radius", "worst area"]).to_csv(index=False).encode(),
            "text/csv",
        )
    )
    at.run()
    press(at, "score-go")
    message = literal(at.error[0])
    assert "lack the column(s) the model needs" in message
    assert "'mean radius'" in message and "'worst area'" in message
    assert not at.download_button
    at.file_uploader(key="score-upload").set_value(
        ("three.csv", rows.iloc[:, :3].to_csv(index=False).encode(), "text/csv")
    )
    at.run()
    press(at, "score-go")
    assert literal(at.error[0]).endswith("'mean concave points' and 22 more.")
