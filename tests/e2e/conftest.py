"""A real Streamlit server and a real Chromium, for end-to-end journeys."""

import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.e2e import ADMIN, create_user, free_port, streamlit_command

ROOT = Path(__file__).parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str:
    path = os.environ.get("KAIZEN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        message = "Chromium is not installed; `make test` installs it (apt-get install chromium)."
        if os.environ.get("CI"):
            pytest.fail(message)  # in CI a missing tool is a failure, never a skip
        pytest.skip(message)
    return path


@pytest.fixture
def kaizen_home(tmp_path: Path) -> Path:
    """The app's KAIZEN_HOME for this test (the CLI and the server share it)."""
    return tmp_path / "home"


@pytest.fixture
def start_app(tmp_path: Path, kaizen_home: Path) -> Iterator[Callable[..., str]]:
    """Starts `streamlit run app.py` on a free port with the test's KAIZEN_HOME (and any
    extra environment), once the test asks; stopped at the end of the test."""
    servers: list[tuple[subprocess.Popen[bytes], IO[str]]] = []

    def start(**env: str) -> str:
        port = free_port()
        log_path = tmp_path / f"streamlit-{len(servers)}.log"
        log = log_path.open("w")
        # An empty secrets file: a developer's own [auth] must not turn these journeys to OIDC.
        secrets = tmp_path / "no-secrets.toml"
        secrets.touch()
        server = subprocess.Popen(
            streamlit_command(port, secrets),
            cwd=ROOT,
            env={**os.environ, "KAIZEN_HOME": str(kaizen_home), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        servers.append((server, log))
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, server, log_path)
        return url

    try:
        yield start
    finally:
        for server, log in servers:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()


@pytest.fixture
def app_url(kaizen_home: Path, start_app: Callable[..., str]) -> str:
    """The app with its first admin (ADMIN) made by `kaizen users create-admin` beforehand;
    journeys start with `sign_in(page, app_url)`."""
    create_user(kaizen_home, *ADMIN)
    return start_app()


def _wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"streamlit did not become healthy:\n{log.read_text()}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = _chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()
