"""The container tier: Podman (as `make container` installs it) with runc, a containers.conf
without default ulimits, and the local stand-in for python:3.11-slim. A missing piece skips
these tests on a developer's machine and fails them in CI."""

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILT_CONF = ROOT / "build" / "container" / "containers.conf"  # written by `make container`
BASE_IMAGE = "docker.io/library/python:3.11-slim"
Podman = Callable[..., subprocess.CompletedProcess[str]]


def _missing(message: str) -> None:
    message += " `make container` installs it."
    if os.environ.get("CI"):
        pytest.fail(message)  # in CI a missing tool is a failure, never a skip
    pytest.skip(message)


@pytest.fixture(scope="session")
def containers_conf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """CONTAINERS_CONF for the session: make's, else an equal one of our own (also what
    `kaizen publish --image` uses, so both runs see the same settings)."""
    path = BUILT_CONF
    if not path.is_file():
        path = tmp_path_factory.mktemp("podman") / "containers.conf"
        path.write_text("[containers]\ndefault_ulimits = []\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONTAINERS_CONF", str(path))
        yield path


@pytest.fixture(scope="session")
def podman(containers_conf: Path) -> Podman:
    """Runs `podman --runtime runc ARGS`; the stand-in base image must be there."""
    if shutil.which("podman") is None or shutil.which("runc") is None:
        _missing("Podman and runc are not installed.")

    def run(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["podman", "--runtime", "runc", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    if run("image", "exists", BASE_IMAGE).returncode != 0:
        _missing(f"The base image {BASE_IMAGE} (a local stand-in) is not built.")
    return run
