"""The API image of a bundle, built from the project's Dockerfile with the container engine at
hand: Docker when its daemon answers, else Podman (with runc, and a containers.conf without
default ulimits, where those are what work)."""

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from services.config import Settings
from services.errors import InvalidInput, Unavailable

PROJECT = Path(__file__).resolve().parents[2]
DOCKERFILE = PROJECT / "Dockerfile"
TARGET = "api"
PORT = 8000  # the port the image's server listens on (its Dockerfile's EXPOSE)
# A reference as Docker takes it: [registry[:port]/]path[:tag], lower case.
_TAG = re.compile(
    r"[a-z0-9]+([._-]+[a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:\w[\w.-]{0,127})?"
)
_HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
CONTAINERS_CONF = "[containers]\ndefault_ulimits = []\n"
PROBE_SECONDS = 15.0


@dataclass(frozen=True)
class Engine:
    """A usable container engine: its command with global options, and its environment."""

    name: Literal["docker", "podman"]
    command: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)

    def run_line(self, tag: str, container: str) -> str:
        """The exact command that runs the image, its API on the host's port 8000."""
        env = " ".join(f"{k}={v}" for k, v in self.env.items())
        command = " ".join([*self.command, "run", "-d", "--name", container])
        return f"{env + ' ' if env else ''}{command} -p {PORT}:{PORT} {tag}"


@dataclass(frozen=True)
class Built:
    """The outcome of an image build: the tag, or why no image was built."""

    image: str | None
    note: str | None = None
    run_line: str | None = None
    seconds: float = 0.0


def check_tag(tag: str) -> str:
    """`tag` if Docker and Podman take it as an image reference."""
    if len(tag) > 255 or not _TAG.fullmatch(tag):
        raise InvalidInput(
            f"'{tag}' is not an image tag: use lower-case letters, digits, '.', '-', '_' and "
            "'/', with an optional ':tag', e.g. kaizen/churn-api:3."
        )
    return tag


def find_engine(settings: Settings) -> Engine | str:
    """The engine to build with, or why there is none."""
    choice = settings.container_engine
    if choice == "none":
        return "image building is turned off (KAIZEN_CONTAINER_ENGINE=none)"
    if choice in ("auto", "docker") and shutil.which("docker") and _answers(["docker", "info"]):
        return Engine("docker", ("docker",))
    if choice in ("auto", "podman") and shutil.which("podman"):
        # crun fails on some hosts' cgroups where runc works; runc, when installed, works on all.
        runtime = ("--runtime", "runc") if shutil.which("runc") else ()
        return Engine("podman", ("podman", *runtime), _podman_env(settings))
    if choice == "docker":
        return "Docker is not installed here or its daemon does not answer (docker info)"
    if choice == "podman":
        return "Podman is not installed here"
    return "no container engine here (Docker with a running daemon, or Podman)"


def build_image(*, settings: Settings, bundle_dir: Path, tag: str, container: str) -> Built:
    """Builds the `api` image of the bundle in `bundle_dir` as `tag`; without an engine or the
    project's Dockerfile, says why no image was built. A failed build raises Unavailable."""
    check_tag(tag)
    engine = find_engine(settings)
    if isinstance(engine, str):
        return Built(image=None, note=f"The image was not built: {engine}.")
    if not DOCKERFILE.is_file():
        return Built(
            image=None, note="The image was not built: this installation has no Dockerfile."
        )
    log_path = settings.home / "builds" / f"{re.sub(r'[^a-z0-9]+', '-', tag)}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kaizen-image-") as scratch:
        context = _context(Path(scratch), bundle_dir)
        _run_build(engine, context, tag, log_path, settings.image_build_timeout_seconds)
    return Built(
        image=tag,
        run_line=engine.run_line(tag, container),
        seconds=round(time.monotonic() - started, 1),
    )


def _context(scratch: Path, bundle_dir: Path) -> Path:
    """A build context of the Dockerfile, the `services` package and the bundle, nothing else."""
    shutil.copy2(DOCKERFILE, scratch / "Dockerfile")
    junk = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(PROJECT / "services", scratch / "services", ignore=junk)
    shutil.copytree(bundle_dir, scratch / "bundle")
    return scratch


def _run_build(engine: Engine, context: Path, tag: str, log_path: Path, timeout: float) -> None:
    command = [*engine.command, "build", "--target", TARGET, "-t", tag]
    if engine.name == "podman":
        # Docker's format keeps the HEALTHCHECK (OCI's has none). Package downloads need the
        # host's network and, behind a TLS-inspecting proxy, its CAs.
        command += ["--format", "docker", "--network=host"]
        if _HOST_CA.is_file():
            command += ["-v", f"{_HOST_CA.parent}:{_HOST_CA.parent}:ro"]
    command.append(str(context))
    with log_path.open("w") as log:
        try:
            done = subprocess.run(  # noqa: S603  (argv list; the tag was checked)
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **engine.env},
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise Unavailable(
                f"The image build took longer than {timeout:.0f} s and was stopped; nothing "
                f"was changed. Its output is in {log_path}."
            ) from None
    if done.returncode != 0:
        last = _last_line(log_path)
        raise Unavailable(
            f"The image build failed ({last}); nothing was changed. Its output is in {log_path}."
        )


def _podman_env(settings: Settings) -> dict[str, str]:
    """CONTAINERS_CONF as set, else one without default ulimits (a container may not raise
    them on every host)."""
    if os.environ.get("CONTAINERS_CONF"):
        return {}
    path = settings.home / "containers.conf"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(CONTAINERS_CONF)
    return {"CONTAINERS_CONF": str(path.resolve())}


def _answers(command: list[str]) -> bool:
    try:
        done = subprocess.run(  # noqa: S603  (a fixed command)
            command, capture_output=True, timeout=PROBE_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _last_line(path: Path) -> str:
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"
