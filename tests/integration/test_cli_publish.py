"""`kaizen publish`, `kaizen api-keys` and `kaizen predict` on really trained models: one JSON
document each in the documented shape; predictions equal to the pipeline's own; CSV a
spreadsheet cannot run; user errors in one line with exit code 2."""

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import registry
from services.automl import tracking
from services.cli import main
from services.config import Settings, get_settings
from services.serving import bundle
from services.serving.keys import verify_key
from tests.integration.test_cli_errors import assert_one_error_line, run
from tests.support.actors import OPERATOR
from tests.support.registry import TrainedHome, copy_home

PUBLISHED_KEYS = {"name", "version", "alias", "bundle", "image", "docker_run"}
KEY_KEYS = {
    "id",
    "name",
    "prefix",
    "models",
    "admin",
    "created_by",
    "created_at",
    "revoked_at",
    "last_used_at",
}


@pytest.fixture
def engine(settings: Settings, trained: TrainedHome) -> Engine:
    return copy_home(trained, settings)


def _in_process(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """The command run by main(), as the console script runs it, without a process's start-up."""
    try:
        code = main(list(args))
    except SystemExit as stopped:
        code = int(stopped.code or 0)
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, out, err)


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _rows(session: Session, settings: Settings, trained: TrainedHome, version: int) -> pd.DataFrame:
    found = registry.get_version(
        session=session, settings=settings, actor=OPERATOR, name=trained.name, version=version
    )
    holdout, _ = tracking.load_split(settings, str(found.run_id))
    return holdout


def _pipeline(session: Session, settings: Settings, trained: TrainedHome, version: int) -> Any:
    found = registry.get_version(
        session=session, settings=settings, actor=OPERATOR, name=trained.name, version=version
    )
    return tracking.load_pipeline(settings, found.source, str(found.sha256))


def test_publish_prints_the_bundle_image_and_run_line(
    session: Session,
    settings: Settings,
    trained: TrainedHome,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dt = trained.versions["dt"]
    monkeypatch.setenv("KAIZEN_CONTAINER_ENGINE", "none")
    get_settings.cache_clear()
    done = _in_process(
        capsys, "publish", f"{trained.name}:{dt}", "--bundle", str(tmp_path / "b"),
        "--image", "kaizen/cancer:1", "--json",
    )  # fmt: skip
    assert done.stderr == (
        "The image was not built: image building is turned off (KAIZEN_CONTAINER_ENGINE=none).\n"
    )
    published = _json(done)
    assert published == {
        "name": trained.name,
        "version": dt,
        "alias": None,
        "bundle": str(tmp_path / "b"),
        "image": None,
        "docker_run": None,
    }
    assert bundle.read_bundle(tmp_path / "b").version == dt

    # The console script, as an operator runs it: the alias form, the default bundle place.
    registry.promote(
        session=session,
        settings=settings,
        actor=OPERATOR,
        name=trained.name,
        version=dt,
        alias="production",
        reason="test",
    )
    done = run(settings.home, "publish", f"{trained.name}@production", "--json")
    assert set(_json(done)) == PUBLISHED_KEYS and done.stderr == ""
    assert (json.loads(done.stdout)["alias"], json.loads(done.stdout)["version"]) == (
        "production",
        dt,
    )


def test_api_keys_create_list_and_revoke(
    session: Session, settings: Settings, trained: TrainedHome, capsys: pytest.CaptureFixture[str]
) -> None:
    created = _json(
        _in_process(
            capsys, "api-keys", "create", "--name", "app", "--model", trained.name, "--json"
        )
    )
    assert set(created) == {"key", "id", "prefix"} and created["key"].startswith(created["prefix"])
    found = verify_key(session, created["key"])
    assert found is not None and found.models == [trained.name]
    admin = _json(_in_process(capsys, "api-keys", "create", "--name", "ops", "--admin", "--json"))

    listed = _json(_in_process(capsys, "api-keys", "list", "--json"))
    assert [k["id"] for k in listed] == [admin["id"], created["id"]]
    assert all(set(k) == KEY_KEYS for k in listed) and listed[0]["admin"] is True
    assert created["key"] not in json.dumps(listed)
    assert listed[1]["models"] == [trained.name] and listed[0]["models"] is None

    revoked = _json(_in_process(capsys, "api-keys", "revoke", str(created["id"]), "--json"))
    assert set(revoked) == {"id", "name", "prefix", "revoked_at"} and revoked["revoked_at"]
    assert verify_key(session, created["key"]) is None
    text = _in_process(capsys, "api-keys", "list")
    assert "revoked" in text.stdout and created["prefix"] in text.stdout


def test_predict_writes_the_input_with_the_pipelines_own_predictions(
    session: Session,
    settings: Settings,
    trained: TrainedHome,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lr = trained.versions["lr"]
    rows = _rows(session, settings, trained, lr).head(60).drop(columns=["target"])
    rows.insert(0, "customer", ['=HYPERLINK("http://x")', "+1", "-2", "@sum", "\tx"] + ["ok"] * 55)
    source = tmp_path / "in.csv"
    rows.to_csv(source, index=False)

    scored = _json(
        _in_process(
            capsys, "predict", f"{trained.name}:{lr}", "--input", str(source),
            "--output", str(tmp_path / "out.csv"), "--json",
        )
    )  # fmt: skip
    assert scored == {
        "model": trained.name,
        "version": lr,
        "rows": 60,
        "output": str(tmp_path / "out.csv"),
    }
    written = pd.read_csv(tmp_path / "out.csv")
    features = pd.read_csv(source).drop(columns=["customer"])
    pipeline = _pipeline(session, settings, trained, lr)
    assert list(written.columns) == [*rows.columns, "prediction", "proba_0", "proba_1"]
    assert written["prediction"].tolist() == pipeline.predict(features).tolist()
    assert np.allclose(written[["proba_0", "proba_1"]], pipeline.predict_proba(features))
    assert written["customer"].tolist()[:6] == [
        "'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@sum", "'\tx", "ok",
    ]  # fmt: skip
    assert np.allclose(written["mean radius"], rows["mean radius"])  # numbers stay numbers

    # The newest version by default, Parquet in and out, through the console script.
    rows.to_parquet(tmp_path / "in.parquet")
    done = run(
        settings.home, "predict", trained.name, "--input", str(tmp_path / "in.parquet"),
        "--output", str(tmp_path / "out.parquet"),
    )  # fmt: skip
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert (
        done.stdout.strip()
        == f"scored 60 rows with {trained.name} v{max(trained.versions.values())}"
    )
    newest = pd.read_parquet(tmp_path / "out.parquet")
    assert (
        newest["customer"].tolist()[0] == '=HYPERLINK("http://x")'
    )  # Parquet is not a spreadsheet


def test_user_errors_exit_2_with_one_line(
    session: Session,
    settings: Settings,
    trained: TrainedHome,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dt = trained.versions["dt"]
    rows = _rows(session, settings, trained, dt).drop(
        columns=["target", "mean radius", "worst area"]
    )
    rows.to_csv(tmp_path / "in.csv", index=False)
    (tmp_path / "in.xlsx").write_bytes(b"not really")
    cases = {
        ("predict", f"{trained.name}:{dt}", "--input", str(tmp_path / "in.csv"), "--output",
         str(tmp_path / "out.csv")): "the model needs: 'mean radius', 'worst area'",
        ("predict", trained.name, "--input", str(tmp_path / "in.xlsx"), "--output",
         str(tmp_path / "out.csv")): "Score a CSV or Parquet file; in.xlsx is neither.",
        ("predict", f"{trained.name}:x", "--input", str(tmp_path / "in.csv"), "--output",
         str(tmp_path / "o.csv")): "'x' is not a version number",
        ("publish", trained.name): f"Say which version to publish: {trained.name}@ALIAS",
        ("publish", "no-such-model:1"): "There is no registered model named 'no-such-model'",
        ("publish", f"{trained.name}@production"): "No version of",
        ("api-keys", "revoke", "42"): "There is no API key with id 42",
        ("api-keys", "create", "--name", " "): "Give the key a name",
    }  # fmt: skip
    for args, expected in cases.items():
        line = assert_one_error_line(_in_process(capsys, *args))
        assert expected in line, line
    # The console script too, on the way that loads the model before finding what is missing.
    line = assert_one_error_line(run(settings.home, *next(iter(cases))))
    assert "the model needs: 'mean radius', 'worst area'" in line
    assert not (tmp_path / "out.csv").exists()
