"""`kaizen train` as a user runs it: one real training on real data (about 20-30 s), user
errors refused in one line before any job exists, and Ctrl-C cancelling the job."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from services.automl import tracking
from services.automl.results import TrainingResult
from services.cli import main
from services.cli.train import _text
from services.config import Settings, get_settings
from services.db import dispose_engines
from services.models import JobPublic
from tests.support.jobs import FAST_JOBS, stop_runners

KAIZEN = str(Path(sys.executable).parent / "kaizen")
BUDGET = 30
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A Kaizen home with two datasets: 1 = breast cancer (569 rows, 0/1 target), 2 = a small
    table with a text target and a constant column."""
    from sklearn.datasets import load_breast_cancer

    root = tmp_path_factory.mktemp("train")
    cancer = root / "breast_cancer.csv"
    load_breast_cancer(as_frame=True).frame.to_csv(cancer, index=False)
    colours = root / "colours.csv"
    rows = [f"{i % 7},{(i * 3) % 11},{['red', 'green', 'blue'][i % 3]},same" for i in range(60)]
    colours.write_text("x,y,label,constant\n" + "\n".join(rows) + "\n")
    home = root / "home"
    for path in (cancer, colours):
        added = _run(home, "datasets", "add", str(path), "--json")
        assert added.returncode == 0, added.stderr
    yield home
    _stop_runners(home)


@pytest.fixture
def kaizen(home: Path) -> Run:
    return lambda *args, **kw: _run(home, *args, **kw)


def _env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KAIZEN_") and k != "MLFLOW_TRACKING_URI"
    }
    env |= {f"KAIZEN_{k.upper()}": str(v) for k, v in FAST_JOBS.items()}
    env["KAIZEN_HOME"] = str(home)
    return env


def _run(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KAIZEN, *args],
        cwd=home.parent,  # no stray .env is read from the repository
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _jobs(home: Path) -> list[tuple[int, str]]:
    with closing(sqlite3.connect(home / "kaizen.db")) as db:
        return [(i, s) for i, s in db.execute("SELECT id, state FROM job ORDER BY id")]


def _stop_runners(home: Path) -> None:
    """Kills any runner left behind (a failed assertion mid-training), with its group."""
    engine = create_engine(f"sqlite:///{home / 'kaizen.db'}")
    try:
        stop_runners(engine)
    finally:
        engine.dispose()


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and result.stderr == lines[0] + "\n", result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


ERRORS = {
    "unknown dataset": (["99", "--target", "target"], "There is no dataset with id 99"),
    "unknown target": (["1", "--target", "nosuch"], "There is no column 'nosuch'"),
    "single-valued target": (["2", "--target", "constant"], "has only one value ('same')"),
    "budget too small": (
        ["1", "--target", "target", "--budget", "5"],
        "--budget 5 is outside the allowed range: give the training between 30 and 86400 seconds.",
    ),
    "regression on text": (
        ["2", "--target", "label", "--task", "regression"],
        "The target 'label' is text (e.g. 'red'), so it cannot be predicted as a number.",
    ),
    "unknown model": (
        ["1", "--target", "target", "--include", "nosuchmodel"],
        "Unknown model 'nosuchmodel' for binary; choose from: lr,",
    ),
    "classification of a quantity": (
        ["1", "--target", "mean radius", "--task", "classification"],
        "is a quantity, not classes",
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_a_user_error_is_one_line_and_exit_code_2_before_any_job(
    case: str, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In this process (main() is what the console script runs): a subprocess each would
    # spend more time starting than the check takes.
    args, expected = ERRORS[case]
    for name, value in _env(home).items():
        if name.startswith("KAIZEN_"):
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(home.parent)  # no stray .env is read from the repository
    get_settings.cache_clear()
    before = _jobs(home)
    try:
        code = main(["train", *args, "--json"])
    finally:
        get_settings.cache_clear()
        dispose_engines()
    out, err = capsys.readouterr()

    line = _one_error_line(subprocess.CompletedProcess([], code, out, err))
    assert expected in line
    assert _jobs(home) == before  # refused before a job was queued


def test_train_prints_one_json_document_and_registers_the_best_model(
    kaizen: Run, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.monotonic()
    trained = kaizen(
        "train", "1", "--target", "target", "--preset", "fast", "--budget", str(BUDGET), "--json"
    )
    seconds = time.monotonic() - started

    assert trained.returncode == 0, trained.stderr
    assert "Traceback" not in trained.stderr
    document = json.loads(trained.stdout)  # the whole of stdout: one document
    assert set(document) == {
        "job_id",
        "state",
        "leaderboard",
        "model",
        "budget_seconds",
        "elapsed_seconds",
        "overrun_seconds",
        "stopped_by_budget",
        "skipped",
        "notes",
    }
    assert document["state"] == "succeeded"
    board = document["leaderboard"]
    assert board and all(set(r) == {"model", "model_id", "cv", "holdout"} for r in board)
    model = document["model"]
    assert set(model) == {"name", "version", "metric", "score"}
    assert model["metric"] == "AUC" and model["name"] == "default-breast-cancer-target"
    scores = [r["cv"]["AUC"] for r in board]
    assert None not in scores and scores == sorted(scores, reverse=True)  # best first
    assert 0.9 < model["score"] <= 1.0  # an easy dataset: any sane model scores high

    # The budget holds, by the job's own clock and by its row's start and end; the command's
    # wall clock adds its own start-up, the runner's and the checks before the job.
    assert document["budget_seconds"] == BUDGET
    assert document["elapsed_seconds"] <= BUDGET * 1.1
    assert document["overrun_seconds"] == pytest.approx(
        max(0.0, document["elapsed_seconds"] - BUDGET), abs=0.01
    )
    shown = json.loads(kaizen("jobs", "show", str(document["job_id"]), "--json").stdout)
    ran = JobPublic.model_validate(shown).elapsed_seconds
    assert ran <= BUDGET * 1.1, ran
    assert seconds <= BUDGET * 1.1 + 20, seconds

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = Settings(home=home, _env_file=None)
    version = tracking.client(settings).get_model_version(model["name"], str(model["version"]))
    assert version.tags["kaizen.job_id"] == str(document["job_id"])
    assert version.tags["kaizen.dataset_id"] == "1"
    assert version.tags["kaizen.model_id"] == board[0]["model_id"]  # the fast preset: the best

    # Without --json a person reads a ranked table and the registered model.
    text = _text_of(shown)
    header = text.splitlines()[1]
    assert " ".join(header.split()) == "rank model AUC cv AUC holdout seconds"
    assert text.splitlines()[2].split()[0] == "1"
    assert f"registered: {model['name']} version {model['version']}" in text


def _text_of(job: dict[str, Any]) -> str:
    return _text(JobPublic.model_validate(job), TrainingResult.model_validate(job["result"]))


def test_ctrl_c_cancels_the_job_and_exits_130(home: Path) -> None:
    # SIGINT as the terminal sends it; restored to default in case this test runs in the
    # background, where the shell starts processes with SIGINT ignored.
    process = subprocess.Popen(
        [KAIZEN, "train", "1", "--target", "target", "--budget", "60", "--json"],
        cwd=home.parent,
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        while not any(state == "running" for _, state in _jobs(home)[-1:]):
            assert time.monotonic() < deadline, "the training job did not start"
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        job_id = _jobs(home)[-1][0]
        time.sleep(1.0)  # the command is now waiting for the job, past start_training
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()

    assert (process.returncode, out) == (130, ""), err
    assert err == f"interrupted; job {job_id} cancelled\n"
    assert _jobs(home)[-1] == (job_id, "cancelled")
