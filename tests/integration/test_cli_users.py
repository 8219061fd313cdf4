"""`kaizen users` and `kaizen projects`, as the operator runs them: the first admin from a
password on stdin, roles and lockouts, projects and their members; bad input in one line."""

import json
import subprocess
from pathlib import Path

from tests.integration.test_cli_errors import _kaizen, assert_one_error_line, run

PASSWORD = "a long and private passphrase"


def _with_stdin(home: Path, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("KAIZEN_")}
    env["KAIZEN_HOME"] = str(home)
    return subprocess.run(
        [_kaizen(), *args],
        input=text,
        cwd=home.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_operator_creates_the_first_admin_and_manages_users_and_projects(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    made = _with_stdin(
        home,
        PASSWORD + "\n",
        "users",
        "create-admin",
        "--username",
        "Ada",
        "--password-stdin",
        "--json",
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["role"] == "admin" and PASSWORD not in made.stdout
    bob = _with_stdin(
        home,
        PASSWORD + "\n",
        "users",
        "create",
        "--username",
        "bob",
        "--role",
        "analyst",
        "--password-stdin",
    )
    assert bob.returncode == 0, bob.stderr

    changed = run(home, "users", "set-role", "bob", "viewer", "--reason", "left the team", "--json")
    assert json.loads(changed.stdout)["role"] == "viewer"
    listed = json.loads(run(home, "users", "list", "--json").stdout)
    assert [(u["username"], u["role"]) for u in listed] == [("ada", "admin"), ("bob", "viewer")]
    assert all("password_hash" not in u for u in listed)

    assert run(home, "projects", "create", "Finance").returncode == 0
    assert run(home, "projects", "add-member", "Finance", "bob").returncode == 0
    names = [p["name"] for p in json.loads(run(home, "projects", "list", "--json").stdout)]
    assert names == ["Finance", "default"]


def test_bad_account_input_is_one_clear_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    short = _with_stdin(
        home, "admin\n", "users", "create-admin", "--username", "ada", "--password-stdin"
    )
    assert "too short" in assert_one_error_line(short)
    empty = _with_stdin(home, "", "users", "create-admin", "--username", "ada", "--password-stdin")
    assert "No password on standard input" in assert_one_error_line(empty)
    assert "no user named 'ghost'" in assert_one_error_line(run(home, "users", "unlock", "ghost"))
    assert "no project named 'nope'" in assert_one_error_line(
        run(home, "datasets", "add", str(tmp_path / "x.csv"), "--project", "nope")
    )
