"""Share links on a served installation: /s/<token> opens the model's Gradio demo (mounted on the
API's app) with a cookie; without it, or once the link is revoked or expired, plain pages answer;
password and sign-in links; views counted; each link's requests rate-limited; the demo follows
the publication's version on reload and predicts as the API does (Gradio's own client, over a
real uvicorn)."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import publish, sharing
from services.config import Settings
from services.models import utcnow
from services.serving_models import ShareLink
from tests.support.actors import OPERATOR
from tests.support.registry import TrainedHome, copy_home, person
from tests.support.serving import (
    READY_SECONDS,
    Keys,
    home_env,
    in_process,
    on_loopback,
    promote,
    publish_models,
    serving_app,
)

RATE = 8  # demo requests per minute per link, in this module's app


@dataclass
class Shared:
    client: TestClient
    settings: Settings
    engine: Engine
    trained: TrainedHome
    keys: Keys

    def link(self, **options: Any) -> sharing.NewLink:
        options.setdefault("expires_days", 7)
        with Session(self.engine) as session:
            return sharing.create_link(
                session=session,
                settings=self.settings,
                actor=OPERATOR,
                name=options.pop("name", self.trained.name),
                **options,
            )

    def fresh(self) -> TestClient:
        """Another browser: the same app, no cookies."""
        return TestClient(self.client.app, follow_redirects=False)


@pytest.fixture(scope="module")
def shared(trained: TrainedHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    with home_env(tmp_path_factory.mktemp("sharing")) as settings:
        engine = copy_home(trained, settings)
        keys = publish_models(engine, settings, trained)
        app = serving_app(engine, settings, key_cache_seconds=0, demo_requests_per_minute=RATE)
        with in_process(app) as client:
            client.follow_redirects = False
            yield Shared(client, settings, engine, trained, keys)


def _open(client: TestClient, made: sharing.NewLink) -> Any:
    return client.get(f"/s/{made.token}")


def test_a_link_opens_the_demo_with_a_cookie_and_counts_the_view(shared: Shared) -> None:
    made = shared.link()
    browser = shared.fresh()
    opened = _open(browser, made)
    assert opened.status_code == 303
    demo = f"/demo/{shared.trained.name}"
    assert opened.headers["location"] == f"{demo}/"
    cookie = opened.headers["set-cookie"]
    assert "kaizen_demo=" in cookie and "HttpOnly" in cookie and f"Path={demo}" in cookie
    assert made.token not in cookie
    page = browser.get(f"{demo}/")
    assert page.status_code == 200 and "gradio" in page.text.lower()
    config = browser.get(f"{demo}/config").json()
    labels = {c.get("props", {}).get("label") for c in config["components"]}
    assert {"mean radius", "worst texture"} <= labels
    with Session(shared.engine) as session:
        seen = sharing.link_by_id(session, made.link.id)
    assert seen is not None and seen.views == 1 and seen.last_viewed_at is not None


def test_the_demo_is_closed_without_a_grant_for_that_model(shared: Shared) -> None:
    stranger = shared.fresh()
    demo = f"/demo/{shared.trained.name}/"
    refused = stranger.get(demo)
    assert refused.status_code == 401 and "reached through a share link" in refused.text
    assert stranger.get(f"{demo}config").status_code == 401
    stranger.cookies.set("kaizen_demo", "1.99999999999.forged", path=demo.rstrip("/"))
    assert stranger.get(demo).status_code == 401
    other = shared.link(name=shared.trained.other)
    visitor = shared.fresh()
    assert _open(visitor, other).status_code == 303
    grant = visitor.cookies.get("kaizen_demo")
    intruder = shared.fresh()
    intruder.cookies.set("kaizen_demo", grant or "", path=demo.rstrip("/"))
    assert intruder.get(demo).status_code == 401  # a grant for another model's demo


def test_revoked_expired_and_unknown_links_answer_plain_pages(shared: Shared) -> None:
    made = shared.link()
    browser = shared.fresh()
    assert _open(browser, made).status_code == 303
    demo = f"/demo/{shared.trained.name}/"
    assert browser.get(demo).status_code == 200
    with Session(shared.engine) as session:
        sharing.revoke_link(session=session, actor=OPERATOR, link_id=made.link.id)
    revoked = _open(shared.fresh(), made)
    assert revoked.status_code == 410 and "This link was revoked" in revoked.text
    assert "Traceback" not in revoked.text and "gradio" not in revoked.text.lower()
    closed = browser.get(demo)  # the tab opened before: closed too
    assert closed.status_code == 410 and "was revoked" in closed.text

    late = shared.link()
    with Session(shared.engine) as session:
        stored = session.get(ShareLink, late.link.id)
        assert stored is not None
        stored.expires_at = utcnow() - timedelta(minutes=1)
        session.add(stored)
        session.commit()
    expired = _open(shared.fresh(), late)
    assert expired.status_code == 410 and "This link has expired" in expired.text
    unknown = shared.fresh().get("/s/not-a-real-token")
    assert unknown.status_code == 404 and "does not work" in unknown.text
    assert unknown.headers["referrer-policy"] == "no-referrer"


def test_a_password_link_asks_for_its_password(shared: Shared) -> None:
    made = shared.link(access="password", password="correct horse")
    browser = shared.fresh()
    form = _open(browser, made)
    assert form.status_code == 200 and 'type="password"' in form.text
    wrong = browser.post(f"/s/{made.token}", data={"password": "wrong horse"})
    assert wrong.status_code == 401 and "not right" in wrong.text
    assert "kaizen_demo" not in browser.cookies
    right = browser.post(f"/s/{made.token}", data={"password": "correct horse"})
    assert right.status_code == 303
    assert browser.get(f"/demo/{shared.trained.name}/").status_code == 200


def test_a_sign_in_link_needs_the_apps_pass(shared: Shared) -> None:
    made = shared.link(access="signed_in")
    browser = shared.fresh()
    asked = _open(browser, made)
    assert asked.status_code == 401
    assert f"{shared.settings.app_url}/?share={made.token}" in asked.text
    assert browser.get(f"/s/{made.token}?pass=1.forged").status_code == 401
    with Session(shared.engine) as session:
        viewer = person(session, "vic", OPERATOR.role)
        url = sharing.sign_in_pass(
            session=session, settings=shared.settings, actor=viewer, token=made.token
        )
    passed = browser.get(url.removeprefix(shared.settings.serve_url))
    assert passed.status_code == 303
    assert browser.get(f"/demo/{shared.trained.name}/").status_code == 200


def test_each_links_demo_requests_are_rate_limited(shared: Shared) -> None:
    made = shared.link()
    browser = shared.fresh()
    assert _open(browser, made).status_code == 303  # the open takes one request
    demo = f"/demo/{shared.trained.name}"
    answers = [browser.post(f"{demo}/gradio_api/queue/join", json={}) for _ in range(RATE)]
    assert answers[-1].status_code == 429 and "Too many requests" in answers[-1].text
    assert all(a.status_code != 429 for a in answers[: RATE - 2])
    assert browser.get(f"{demo}/").status_code == 200  # pages still open; only requests count
    other = shared.fresh()
    assert _open(other, shared.link()).status_code == 303  # another link has its own budget


def test_a_model_published_after_the_server_loaded_starts_on_its_first_link(
    shared: Shared,
) -> None:
    other = shared.trained.other
    earlier = shared.link(name=other)
    admin = {"Authorization": f"Bearer {shared.keys.admin}"}
    with Session(shared.engine, expire_on_commit=False) as session:
        version = publish.unpublish(session=session, actor=OPERATOR, name=other).version
    assert other in shared.client.post("/v1/admin/reload", headers=admin).json()["changed"]
    gone = _open(shared.fresh(), earlier)
    assert gone.status_code == 503 and "not available right now" in gone.text

    with Session(shared.engine, expire_on_commit=False) as session:
        publish.publish(
            session=session, settings=shared.settings, actor=OPERATOR, name=other, version=version
        )
    made = shared.link(name=other)
    first = _open(shared.fresh(), made)  # no reload asked for: the link itself brings it up
    assert first.status_code == 503 and "The demo is starting" in first.text
    assert 'http-equiv="refresh"' in first.text
    deadline = time.monotonic() + READY_SECONDS
    while (answer := _open(shared.fresh(), made)).status_code == 503:
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.5)
    assert answer.status_code == 303


def test_the_demo_predicts_as_the_api_and_follows_the_publication(shared: Shared) -> None:
    from gradio_client import Client

    name, trained = shared.trained.name, shared.trained
    made = shared.link()
    browser = shared.fresh()
    assert _open(browser, made).status_code == 303
    grant = browser.cookies.get("kaizen_demo")
    with on_loopback(shared.client.app) as base:  # type: ignore[arg-type]
        demo = Client(
            f"{base}/demo/{name}/", headers={"Cookie": f"kaizen_demo={grant}"}, verbose=False
        )
        schema = shared.client.get(
            f"/v1/models/{name}/schema", headers={"Authorization": f"Bearer {shared.keys.everyone}"}
        ).json()
        row = {c["name"]: c["example"] for c in schema["columns"]}
        answer = demo.predict(*row.values(), api_name="/predict")
        api = shared.client.post(
            f"/v1/models/{name}/predict",
            json={"rows": [row]},
            headers={"Authorization": f"Bearer {shared.keys.everyone}"},
        ).json()
    label = answer[0]
    assert str(label["label"]) == str(api["predictions"][0])
    chances = {str(c["label"]): c["confidence"] for c in label["confidences"]}
    expected = dict(zip(map(str, api["classes"]), api["probabilities"][0], strict=True))
    assert chances == pytest.approx(expected, abs=1e-9)

    with Session(shared.engine) as session:
        promote(session, shared.settings, name, trained.versions["lr"])
    reloaded = shared.client.post(
        "/v1/admin/reload", headers={"Authorization": f"Bearer {shared.keys.admin}"}
    )
    assert name in reloaded.json()["changed"]
    config = browser.get(f"/demo/{name}/config").text
    assert f"version {trained.versions['lr']}" in config


def test_gradio_serves_no_files_of_ours_and_bounds_uploads(shared: Shared) -> None:
    browser = shared.fresh()
    assert _open(browser, shared.link()).status_code == 303
    demo = f"/demo/{shared.trained.name}/gradio_api"
    database = next(shared.settings.home.glob("kaizen.db"))
    for path in ("/etc/passwd", str(database), str(Path(__file__).resolve())):
        answer = browser.get(f"{demo}/file={path}")
        assert answer.status_code in (403, 404), (path, answer.status_code)
        assert "root:" not in answer.text and "SQLite" not in answer.text
    big = browser.post(f"{demo}/upload", files={"files": ("big.csv", b"x" * 2_000_000)})
    assert big.status_code == 413
