"""`kaizen models list|promote|history` as the operator runs them on really trained models:
one JSON document each, the alias moved in MLflow and audited; user errors in one line with
exit code 2."""

import getpass
import json
import subprocess
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import audit
from services.automl import tracking
from services.cli import main
from services.config import Settings
from tests.integration.test_cli_errors import assert_one_error_line, run
from tests.support.actors import OPERATOR
from tests.support.registry import TrainedHome, copy_home

MODEL_KEYS = {"name", "project_id", "aliases", "warnings", "versions"}
VERSION_KEYS = {
    "version",
    "created_at",
    "author",
    "model_id",
    "metric",
    "score",
    "finalized",
    "job_id",
    "dataset",
    "run_id",
    "aliases",
}
PROMOTED_KEYS = {"name", "alias", "version", "previous_version", "revision", "by", "at", "reason"}
EVENT_KEYS = {
    "at",
    "alias",
    "from_version",
    "to_version",
    "kind",
    "by",
    "reason",
    "request_id",
    "revision",
}


@pytest.fixture
def engine(settings: Settings, trained: TrainedHome) -> Engine:
    return copy_home(trained, settings)


def _in_process(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """The command run by main(), as the console script runs it, without a process's start-up."""
    try:
        code = main(list(args))
    except SystemExit as stopped:  # argparse refusing the arguments, as the script would exit
        code = int(stopped.code or 0)
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, out, err)


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # the whole of stdout: one document


def test_list_promote_and_history_print_one_json_document_each(
    session: Session, settings: Settings, trained: TrainedHome, capsys: pytest.CaptureFixture[str]
) -> None:
    dt, lr = trained.versions["dt"], trained.versions["lr"]
    listed = _json(_in_process(capsys, "models", "list", "--json"))
    assert [m["name"] for m in listed] == [trained.name, trained.other]
    cancer = listed[0]
    assert set(cancer) == MODEL_KEYS and cancer["aliases"] == {} and cancer["warnings"] == []
    assert [v["version"] for v in cancer["versions"]] == sorted([dt, lr], reverse=True)
    for version in cancer["versions"]:
        assert set(version) == VERSION_KEYS
        assert version["model_id"] in ("dt", "lr") and version["metric"] == "AUC"
        assert version["dataset"] == {"id": 1, "name": "cancer", "version": 1}
        assert version["author"] == "tester" and version["finalized"] is True

    # The console script itself, as an operator runs it.
    promoted = _json(
        run(
            settings.home,
            "models",
            "promote",
            trained.name,
            str(dt),
            "--alias",
            "production",
            "--json",
        )
    )
    assert set(promoted) == PROMOTED_KEYS
    assert (promoted["version"], promoted["previous_version"], promoted["revision"]) == (
        dt,
        None,
        1,
    )
    assert (promoted["by"], promoted["reason"]) == (getpass.getuser(), "promoted from the CLI")
    again = _json(
        _in_process(
            capsys,
            "models",
            "promote",
            trained.name,
            str(lr),
            "--alias",
            "production",
            "--reason",
            "better AUC",
            "--json",
        )
    )
    assert (again["version"], again["previous_version"], again["revision"]) == (lr, dt, 2)
    found = tracking.client(settings).get_model_version_by_alias(trained.name, "production")
    assert int(found.version) == lr

    history = _json(_in_process(capsys, "models", "history", trained.name, "--json"))
    assert all(set(e) == EVENT_KEYS for e in history)
    assert [(e["from_version"], e["to_version"], e["kind"], e["reason"]) for e in history] == [
        (dt, lr, "promoted", "better AUC"),
        (None, dt, "promoted", "promoted from the CLI"),
    ]
    assert _json(_in_process(capsys, "models", "list", "--json"))[0]["aliases"] == {
        "production": lr
    }
    moves = audit.list_events(session=session, actor=OPERATOR, action="model.promoted")
    assert [(e.before, e.after) for e in moves] == [
        ({"version": dt, "revision": 1}, {"version": lr, "revision": 2}),
        ({"version": None, "revision": 0}, {"version": dt, "revision": 1}),
    ]


def test_without_json_a_person_reads_lines(
    session: Session, trained: TrainedHome, capsys: pytest.CaptureFixture[str]
) -> None:
    lr = trained.versions["lr"]
    moved = _in_process(capsys, "models", "promote", trained.name, str(lr), "--alias", "staging")
    assert moved.stdout == f"{trained.name}@staging is now version {lr} (was no version)\n"
    listed = _in_process(capsys, "models", "list").stdout.splitlines()
    assert listed[0] == f"{trained.name}  (2 versions; staging=v{lr})"
    block = listed[
        1 : next((i for i, x in enumerate(listed[1:], 1) if not x.startswith(" ")), None)
    ]
    assert [line for line in block if "[staging]" in line] == [
        line for line in block if line.startswith(f"  v{lr} ")
    ]  # only this model's versions: the home has other models with a v1 too
    history = _in_process(capsys, "models", "history", trained.name).stdout.splitlines()
    assert len(history) == 1
    assert history[0].endswith(
        f"staging: none -> v{lr}  promoted by {getpass.getuser()}: promoted from the CLI"
    )


def test_user_errors_are_one_line_and_exit_code_2(
    session: Session, trained: TrainedHome, capsys: pytest.CaptureFixture[str]
) -> None:
    name, dt = trained.name, str(trained.versions["dt"])
    errors = {
        ("promote", name, dt, "--alias", "qa"): "'qa' is not one of the aliases",
        ("promote", name, "99", "--alias", "production"): f"'{name}' has no version 99",
        ("promote", "no-such-model", "1", "--alias", "production"): "no registered model named",
        ("promote", name, dt, "--alias", "production", "--reason", " "): "Give a reason",
        ("promote", name, "one", "--alias", "production"): "invalid int value: 'one'",
        ("promote", name, dt): "the following arguments are required: --alias",
        ("history", "no-such-model"): "There is no registered model named 'no-such-model'",
    }
    for args, expected in errors.items():
        line = assert_one_error_line(_in_process(capsys, "models", *args, "--json"))
        assert expected in line, (args, line)
    assert (
        _in_process(capsys, "models", "promote", name, dt, "--alias", "production").returncode == 0
    )
    line = assert_one_error_line(
        _in_process(capsys, "models", "promote", name, dt, "--alias", "production", "--json")
    )
    assert line == f"error: Version {dt} of {name} already holds 'production'."
