"""Sign-in through a real OpenID Connect provider (node oidc-provider on loopback), in a real
Chromium: the provider's login form, back in the app with the pages of the role the groups
claim maps to, sign-out; and the loud refusal of settings that cannot work."""

import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import create_engine
from sqlmodel import Session, select

from services.models import AuditEvent, User
from tests.support.e2e import free_port, streamlit_command

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]
PROVIDER_DIR = Path(__file__).parent / "oidc"
CLIENT_ID, CLIENT_SECRET = "kaizen-studio", "kaizen-test-secret"
BUTTON = "Sign in with Kaizen Test IdP"
ROLES = {"kz-analysts": "analyst", "kz-admins": "admin"}
SLOW = 60_000  # ms: the first run of a fresh app migrates its database


def _missing(message: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(message)  # in CI a missing tool is a failure, never a skip
    pytest.skip(message)


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"{what} did not answer at {url}:\n{log.read_text()}")


@contextmanager
def _running(
    command: list[str], env: dict[str, str], log: Path, ready: str, what: str
) -> Iterator[subprocess.Popen[bytes]]:
    out = log.open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(ready, process, log, what)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        out.close()


@dataclass
class Idp:
    url: str
    log: Path


@dataclass
class App:
    url: str
    log: Path
    home: Path

    def user(self, username: str) -> User:
        """The user as the app's database holds it (read while the app runs)."""
        engine = create_engine(f"sqlite:///{self.home / 'kaizen.db'}")
        try:
            with Session(engine) as db:
                return db.exec(select(User).where(User.username == username)).one()
        finally:
            engine.dispose()

    def disable(self, username: str) -> None:
        """What an admin's "disable" does to the account, done in the database."""
        engine = create_engine(f"sqlite:///{self.home / 'kaizen.db'}")
        try:
            with Session(engine) as db:
                user = db.exec(select(User).where(User.username == username)).one()
                user.active = False
                db.add(user)
                db.commit()
        finally:
            engine.dispose()

    def audit(self, actor: str) -> list[tuple[str, str]]:
        engine = create_engine(f"sqlite:///{self.home / 'kaizen.db'}")
        try:
            with Session(engine) as db:
                events = db.exec(select(AuditEvent).where(AuditEvent.actor == actor)).all()
                return [(event.action, event.subject) for event in events]
        finally:
            engine.dispose()


def _secrets(app_port: int, metadata_url: str, **changes: str | None) -> str:
    values: dict[str, str | None] = {
        "redirect_uri": f"http://127.0.0.1:{app_port}/oauth2callback",
        "cookie_secret": secrets.token_urlsafe(48),
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "server_metadata_url": metadata_url,
        "display_name": "Kaizen Test IdP",
        **changes,
    }
    lines = ["[auth]"] + [f"{k} = {json.dumps(v)}" for k, v in values.items() if v is not None]
    # oidc-provider knows no prompt "select_account" (Streamlit's default): ask to log in.
    lines.append('client_kwargs = { scope = "openid profile email groups", prompt = "login" }')
    return "\n".join(lines) + "\n"


@contextmanager
def _app(tmp: Path, port: int, secrets_toml: str) -> Iterator[App]:
    """`streamlit run app.py` with these secrets (a temp file, never the repository's) and
    its own KAIZEN_HOME; the project's .streamlit/config.toml applies as usual."""
    tmp.mkdir(parents=True, exist_ok=True)
    secrets_file = tmp / "secrets.toml"
    secrets_file.write_text(secrets_toml)
    env = {
        **os.environ,
        "KAIZEN_HOME": str(tmp / "home"),
        "KAIZEN_OIDC_ROLES": json.dumps(ROLES),
        "KAIZEN_OIDC_ROLE_CLAIM": "groups",
    }
    command = streamlit_command(port, secrets_file)
    url = f"http://127.0.0.1:{port}"
    log = tmp / "streamlit.log"
    with _running(command, env, log, f"{url}/_stcore/health", "streamlit"):
        yield App(url, log, tmp / "home")


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        _missing("Node.js is not installed; `make test` installs it (apt-get install nodejs npm).")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        _missing("The test identity provider is not installed; run `make oidc`.")
    return found


@pytest.fixture(scope="module")
def ports() -> tuple[int, int]:
    return free_port(), free_port()


@pytest.fixture(scope="module")
def idp(
    node: str, ports: tuple[int, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Idp]:
    idp_port, app_port = ports
    log = tmp_path_factory.mktemp("idp") / "provider.log"
    env = {**os.environ, "OIDC_REDIRECT_URIS": f"http://127.0.0.1:{app_port}/oauth2callback"}
    url = f"http://127.0.0.1:{idp_port}"
    ready = f"{url}/.well-known/openid-configuration"
    command = [node, str(PROVIDER_DIR / "provider.mjs"), str(idp_port)]
    with _running(command, env, log, ready, "oidc-provider"):
        yield Idp(url, log)


@pytest.fixture(scope="module")
def app(
    idp: Idp, ports: tuple[int, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[App]:
    _, app_port = ports
    tmp = tmp_path_factory.mktemp("oidc-app")
    metadata = f"{idp.url}/.well-known/openid-configuration"
    with _app(tmp, app_port, _secrets(app_port, metadata)) as running:
        yield running


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile: no cookies of the app or the provider."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    # The provider's dev pages import a web font; there is no internet here.
    context.route("**://fonts.googleapis.com/**", lambda route: route.abort())
    context.route("**://fonts.gstatic.com/**", lambda route: route.abort())
    yield context
    context.close()


def _sign_in(page: Page, app: App, login: str) -> None:
    """App -> "Sign in" -> the provider's login form -> consent -> back in the app."""
    page.goto(app.url)
    page.get_by_role("button", name=BUTTON).click()
    page.wait_for_url("**/interaction/**", timeout=SLOW)
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password: dev interactions")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # consent to the scopes
    page.wait_for_url(f"{app.url}/**", timeout=SLOW)


def _nav(page: Page) -> list[str]:
    """The page titles in the sidebar's navigation (without their icons' names)."""
    links = page.locator("[data-testid=stSidebarNav] a")
    return [text.strip().splitlines()[-1] for text in links.all_inner_texts()]


def test_analyst_signs_in_at_the_provider_and_sees_only_analyst_pages(
    app: App, context: BrowserContext
) -> None:
    page = context.new_page()
    _sign_in(page, app, "ana")
    expect(page.get_by_text("Signed in as ana@example.test (analyst)")).to_be_visible(timeout=SLOW)
    expect(page.get_by_role("link", name="Train")).to_be_visible()
    expect(page.get_by_role("link", name="Datasets")).to_be_visible()
    assert _nav(page) == ["Datasets", "Profile", "Train", "Models", "Registry", "Publish", "Jobs"]
    ana = app.user("ana@example.test")
    assert (ana.role, ana.provider, ana.display_name) == ("analyst", "oidc", "Ana Analyst")

    # The admin page is not reachable by its URL either: the default page shows instead.
    page.goto(f"{app.url}/admin")
    expect(page.get_by_text("Signed in as ana@example.test (analyst)")).to_be_visible(timeout=SLOW)
    expect(page.get_by_role("heading", name="Datasets")).to_be_visible(timeout=SLOW)
    expect(page.get_by_role("heading", name="Admin")).to_have_count(0)
    expect(page.get_by_role("tab", name="Audit log")).to_have_count(0)
    assert _nav(page) == ["Datasets", "Profile", "Train", "Models", "Registry", "Publish", "Jobs"]


def test_admin_signs_in_and_sees_the_admin_page(app: App, context: BrowserContext) -> None:
    page = context.new_page()
    _sign_in(page, app, "adam")
    expect(page.get_by_text("Signed in as adam@example.test (admin)")).to_be_visible(timeout=SLOW)
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Admin")).to_be_visible(timeout=SLOW)
    assert _nav(page) == [
        "Datasets",
        "Profile",
        "Train",
        "Models",
        "Registry",
        "Publish",
        "Jobs",
        "Admin",
    ]
    expect(page.get_by_role("tab", name="Audit log")).to_be_visible()
    assert app.user("adam@example.test").role == "admin"
    assert ("sign_in", "oidc") in app.audit("adam@example.test")


def test_unmapped_groups_get_viewer_and_sign_out_returns_to_the_sign_in_page(
    app: App, context: BrowserContext
) -> None:
    page = context.new_page()
    _sign_in(page, app, "vic")
    expect(page.get_by_text("Signed in as vic@example.test (viewer)")).to_be_visible(timeout=SLOW)
    expect(page.get_by_role("link", name="Jobs")).to_be_visible()
    assert _nav(page) == ["Datasets", "Profile", "Models", "Registry", "Jobs"]

    page.get_by_role("button", name="Sign out").click()
    # Streamlit ends the provider's session too (its end_session_endpoint asks to confirm).
    page.get_by_role("button", name="Yes, sign me out").click(timeout=SLOW)
    page.wait_for_url(f"{app.url}/**", timeout=SLOW)
    expect(page.get_by_role("button", name=BUTTON)).to_be_visible(timeout=SLOW)
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    assert app.user("vic@example.test").role == "viewer"
    assert [a for a, _ in app.audit("vic@example.test")] == ["user.create", "sign_in", "sign_out"]

    # Signed out for good: a new visit shows the sign-in page, and signing in asks again.
    page.goto(app.url)
    expect(page.get_by_role("button", name=BUTTON)).to_be_visible(timeout=SLOW)
    page.get_by_role("button", name=BUTTON).click()
    expect(page.locator("input[name=login]")).to_be_visible(timeout=SLOW)


def test_a_disabled_account_is_shut_out_at_once_and_can_sign_out(
    app: App, context: BrowserContext
) -> None:
    page = context.new_page()
    _sign_in(page, app, "dora")
    expect(page.get_by_text("Signed in as dora@example.test (analyst)")).to_be_visible(timeout=SLOW)

    app.disable("dora@example.test")
    page.get_by_role("link", name="Jobs").click()  # the next run of the same session
    expect(page.get_by_text("Your account is disabled or was removed")).to_be_visible(timeout=SLOW)
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    expect(page.get_by_role("heading", name="Jobs")).to_have_count(0)

    page.reload()  # a new session: the provider's identity is refused too
    expect(page.get_by_text("This account is disabled; ask an admin.")).to_be_visible(timeout=SLOW)
    assert _nav(page) == []
    assert ("sign_in.failed", "") in app.audit("dora@example.test")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click(timeout=SLOW)
    page.wait_for_url(f"{app.url}/**", timeout=SLOW)
    expect(page.get_by_role("button", name=BUTTON)).to_be_visible(timeout=SLOW)


def test_missing_cookie_secret_refuses_to_open(context: BrowserContext, tmp_path: Path) -> None:
    port = free_port()
    metadata = "http://127.0.0.1:9/.well-known/openid-configuration"
    with _app(tmp_path, port, _secrets(port, metadata, cookie_secret=None)) as running:
        page = context.new_page()
        page.goto(running.url)
        expect(page.get_by_text("Kaizen Studio cannot start")).to_be_visible(timeout=SLOW)
        expect(page.get_by_text("has no cookie_secret")).to_be_visible()
        _assert_closed(page)


def test_unreachable_provider_refuses_to_open(context: BrowserContext, tmp_path: Path) -> None:
    port, nobody = free_port(), free_port()
    metadata = f"http://127.0.0.1:{nobody}/.well-known/openid-configuration"
    with _app(tmp_path, port, _secrets(port, metadata)) as running:
        page = context.new_page()
        page.goto(running.url)
        expect(page.get_by_text("Kaizen Studio cannot start")).to_be_visible(timeout=SLOW)
        expect(
            page.get_by_text(f"The identity provider at {metadata} did not answer")
        ).to_be_visible()
        expect(page.get_by_text("or that the provider is running")).to_be_visible()
        _assert_closed(page)


def _assert_closed(page: Page) -> None:
    """Nothing of the app is reachable: no pages, no sign-in."""
    expect(page.get_by_role("button", name=BUTTON)).to_have_count(0)
    expect(page.locator("[data-testid=stSidebarNav]")).to_have_count(0)
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    assert _nav(page) == []
