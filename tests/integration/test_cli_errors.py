"""The real `kaizen` console script on bad files: exit code 2, one line on stderr, no stdout.

Each run is a separate process with its own KAIZEN_HOME, as a user or a script would run it.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"


def _kaizen() -> str:
    beside = Path(sys.executable).parent / "kaizen"
    found = str(beside) if beside.is_file() else shutil.which("kaizen")
    assert found, "the kaizen console script is not installed in this environment"
    return found


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAIZEN_")}
    env["KAIZEN_HOME"] = str(home)
    return subprocess.run(
        [_kaizen(), *args],
        cwd=home.parent,  # no stray .env is read from the repository
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert result.stderr == lines[0] + "\n"
    return lines[0]


ERRORS = {
    "ragged_rows.csv": (
        "error: Line 4 of 'ragged_rows.csv' has 4 values but the header has 3 columns (detected "
        "delimiter: comma). The row reads: '1003,29,bronze,extra'. Fix that row, or check the "
        "file uses one delimiter."
    ),
    "multi_sheet.xlsx": (
        "error: 'multi_sheet.xlsx' has 3 sheets ('Customers', 'Orders', 'Notes'). "
        "Choose the sheet to read. Run again with --sheet NAME."
    ),
    # openpyxl's failure is logged with its traceback: it must go to the log file, not stderr.
    "broken_parts.xlsx": (
        "error: 'broken_parts.xlsx' is damaged: its workbook parts cannot be read. "
        "Open it in Excel, save it again as .xlsx and upload the new file."
    ),
    "duplicate_columns.csv": (
        "error: The column names in 'duplicate_columns.csv' need fixing: 'amount', 'region' "
        "appear more than once. Accept the suggested names, or fix them in the file and upload "
        "it again. To use id, amount, amount_2, region, region_2, amount_3, run again with "
        "--rename-columns."
    ),
}


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_a_bad_file_gives_one_error_line_and_exit_code_2(
    name: str, json_output: bool, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    args = ["datasets", "add", str(BAD / name)] + (["--json"] if json_output else [])

    result = run(home, *args)

    assert assert_one_error_line(result) == ERRORS[name]
    with closing(sqlite3.connect(home / "kaizen.db")) as db:
        assert db.execute("SELECT count(*) FROM dataset").fetchone() == (0,)
    assert list((home / "datasets").glob("*")) == []


def test_the_hint_on_stderr_is_the_way_out(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = str(BAD / "multi_sheet.xlsx")
    assert_one_error_line(run(home, "datasets", "add", path, "--json"))

    chosen = run(home, "datasets", "add", path, "--sheet", "Orders", "--json")

    assert (chosen.returncode, chosen.stderr) == (0, "")
    assert '"rows": 2, "columns": 3' in chosen.stdout
