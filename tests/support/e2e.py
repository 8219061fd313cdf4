"""What the e2e journeys share: accounts made with the `kaizen` command on the test's home,
and signing in through the app's own form in a real browser."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

ROOT = Path(__file__).parents[2]

# The first admin the e2e fixtures create with `kaizen users create-admin`.
ADMIN = ("admin", "an e2e operator passphrase")
SLOW = 60_000  # ms: the first run of a fresh app migrates its database


def sign_in(page: Page, url: str, username: str = ADMIN[0], password: str = ADMIN[1]) -> None:
    """Opens `url`, fills the sign-in form and waits for the app behind it."""
    page.goto(url)
    fill_sign_in(page, username, password)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=SLOW)


def fill_sign_in(page: Page, username: str, password: str) -> None:
    """Types into the sign-in form (already on the page) and submits it."""
    expect(page.get_by_role("heading", name="Sign in to Kaizen Studio")).to_be_visible(timeout=SLOW)
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def kaizen(home: Path, *args: str, stdin: str = "", timeout: float = 120) -> str:
    """Runs the `kaizen` command on `home`; its output, or the test fails with its error."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name("kaizen")), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "KAIZEN_HOME": str(home)},
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"kaizen {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def create_user(home: Path, username: str, password: str, role: str = "admin") -> None:
    """A local account made by the operator at the command line (password from stdin)."""
    command = ["create-admin"] if role == "admin" else ["create", "--role", role]
    kaizen(home, "users", *command, "--username", username, "--password-stdin", stdin=password)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def streamlit_command(port: int, secrets_file: Path) -> list[str]:
    """`streamlit run app.py` on loopback with only these secrets (never a developer's own)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--secrets.files",
        str(secrets_file),
    ]
