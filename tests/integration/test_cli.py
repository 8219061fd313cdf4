"""The real `kaizen` console script, run as a user would run it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

KAIZEN = str(Path(sys.executable).parent / "kaizen")


@pytest.fixture
def kaizen(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {**os.environ, "KAIZEN_HOME": str(tmp_path / "home")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KAIZEN, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    return run


def test_add_list_show_delete_round_trip(kaizen, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    table = tmp_path / "churn.csv"
    table.write_text("id,tenure,plan,churned\n1,12,gold,no\n2,,basic,yes\n3,40,gold,no\n")

    added = kaizen("datasets", "add", str(table), "--json")
    assert added.returncode == 0, added.stderr
    document = json.loads(added.stdout)
    assert {k: document[k] for k in ("id", "name", "version", "rows", "columns")} == {
        "id": 1,
        "name": "churn",
        "version": 1,
        "rows": 3,
        "columns": 4,
    }
    assert len(document["sha256"]) == 64 and document["created"] is True

    again = json.loads(kaizen("datasets", "add", str(table), "--json").stdout)
    assert (again["id"], again["created"]) == (1, False)

    listed = json.loads(kaizen("datasets", "list", "--json").stdout)
    assert [(d["name"], d["latest_version"], d["rows"]) for d in listed] == [("churn", 1, 3)]

    shown = json.loads(kaizen("datasets", "show", "1", "--rows", "2", "--json").stdout)
    assert [c["kind"] for c in shown["column_infos"]] == [
        "integer",
        "integer",
        "category",
        "category",
    ]
    assert shown["preview"] == [
        {"id": 1, "tenure": 12, "plan": "gold", "churned": "no"},
        {"id": 2, "tenure": None, "plan": "basic", "churned": "yes"},
    ]

    deleted = kaizen("datasets", "delete", "1", "--json")
    assert json.loads(deleted.stdout) == {"deleted": 1}
    assert json.loads(kaizen("datasets", "list", "--json").stdout) == []


def test_human_output_without_json(kaizen, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    table = tmp_path / "prices.tsv"
    table.write_text("item\tprice\napple\t1.5\n")
    added = kaizen("datasets", "add", str(table), "--name", "Prices")
    assert added.stdout.strip() == "added Prices v1 (id 1): 1 rows x 2"


def test_unknown_dataset_is_a_user_error(kaizen) -> None:  # type: ignore[no-untyped-def]
    result = kaizen("datasets", "show", "42", "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: There is no dataset with id 42. List datasets to see the ids.\n"
    )


def test_bad_arguments_give_one_line(kaizen) -> None:  # type: ignore[no-untyped-def]
    result = kaizen("datasets", "show", "not-a-number")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: argument dataset_id: invalid int value")
