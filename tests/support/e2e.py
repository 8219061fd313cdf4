"""What the e2e journeys share: accounts made with the `kaizen` command on the test's home,
and signing in through the app's own form in a real browser."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

ROOT = Path(__file__).parents[2]

# The first admin the e2e fixtures create with `kaizen users create-admin`.
ADMIN = ("admin", "an e2e operator passphrase")
SLOW = 60_000  # ms: the first run of a fresh app migrates its database
SERVE_READY_SECONDS = 120.0  # kaizen serve loads the models from MLflow on a busy 2-core machine


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


@contextmanager
def kaizen_serve(home: Path, log: Path, port: int | None = None) -> Iterator[str]:
    """`kaizen serve` on loopback (a free port unless given) with the app's home; its base URL
    once every publication is loaded."""
    port = port or free_port()
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("kaizen")), "serve", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "KAIZEN_HOME": str(home)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, server, log)
            yield base
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVE_READY_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"kaizen serve exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/ready", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(
        f"kaizen serve was not ready in {SERVE_READY_SECONDS:.0f} s:\n{log.read_text()[-3000:]}"
    )
