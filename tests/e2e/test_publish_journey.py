"""Issue 9's journey in a real browser, on really trained models: an admin publishes a model on
the Publish page, creates an API key there and copies its secret from the page; `kaizen serve`
then answers the page's own curl example, and more rows, over loopback with that key, with the
very predictions the published pipeline makes in-process."""

import json
import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from sklearn.datasets import load_breast_cancer

from tests.support.e2e import ADMIN, SLOW, create_user, kaizen_serve, sign_in
from tests.support.registry import TrainedHome

pytestmark = pytest.mark.e2e

PUBLISH_TIMEOUT_MS = 180_000  # the job's start, the model's download and check, the bundle
ROWS = 25


def _choose(page: Page, box: str, option: str | re.Pattern[str]) -> None:
    page.get_by_role("combobox", name=box).click()
    page.get_by_role("option", name=option).click()


def _code(page: Page, starting: str) -> str:
    """The text of the visible code block that starts with `starting`."""
    block = page.get_by_test_id("stCode").filter(has_text=starting).first
    expect(block).to_be_visible(timeout=SLOW)
    return block.locator("code").inner_text().strip()


def test_publish_in_the_browser_get_a_key_and_call_the_running_service(
    trained: TrainedHome,
    kaizen_home: Path,
    start_app: Callable[..., str],
    page: Page,
    tmp_path: Path,
) -> None:
    shutil.copytree(trained.home, kaizen_home)
    create_user(kaizen_home, *ADMIN)
    url = start_app(KAIZEN_CONTAINER_ENGINE="none")  # no image builds in this journey
    name, lr = trained.name, trained.versions["lr"]

    sign_in(page, url)
    page.get_by_role("link", name="Publish", exact=True).click()
    expect(page.get_by_role("heading", name="Publish", exact=True)).to_be_visible(timeout=SLOW)
    _choose(page, "Version to pin, or alias to follow", re.compile(rf"^v{lr} · lr"))
    page.locator(".st-key-publish-go button").click()
    expect(page.get_by_text(re.compile(r"Publish #\d+ finished in"))).to_be_visible(
        timeout=PUBLISH_TIMEOUT_MS
    )
    expect(page.get_by_text(f"Published {name} v{lr}.")).to_be_visible()
    assert re.search(r"[?&]job=\d+", page.url)  # a refresh shows this job again
    curl = _code(page, "curl ")
    assert _code(page, "KAIZEN_HOME=").endswith("kaizen serve --host 127.0.0.1 --port 8000")
    assert "docker run -d --name" in _code(page, "kaizen publish ")

    page.get_by_role("tab", name="API keys").click()
    page.get_by_label("Name", exact=True).fill("e2e caller")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("Copy it now: it is not shown again.")).to_be_visible(timeout=SLOW)
    secret = _code(page, "kz_")
    assert re.fullmatch(r"kz_[A-Za-z0-9_-]{43}", secret), secret

    features = load_breast_cancer(as_frame=True).frame.drop(columns="target")
    rows = features.sample(ROWS, random_state=1)
    from services.serving.bundle import read_bundle  # the published files, digest-checked

    pipeline = read_bundle(kaizen_home / "bundles" / name).pipeline
    expected = pipeline.predict(rows).tolist()
    words = shlex.split(curl)
    body, address = words[words.index("-d") + 1], words[-1]
    assert address == f"http://127.0.0.1:8000/v1/models/{name}/predict"
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}

    with kaizen_serve(kaizen_home, tmp_path / "serve.log") as base:
        predict = f"{base}/v1/models/{name}/predict"
        example = httpx.post(predict, content=body, headers=headers, timeout=30)
        assert example.status_code == 200, example.text
        assert example.json()["version"] == lr and len(example.json()["predictions"]) == 1
        answer = httpx.post(
            predict,
            content=json.dumps({"rows": rows.to_dict(orient="records")}),
            headers=headers,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        document = answer.json()
        assert (document["model"], document["version"]) == (name, lr)
        assert document["predictions"] == expected
        assert len(document["probabilities"]) == ROWS
        refused = httpx.post(predict, content=body, headers=headers | {"Authorization": "x"})
        assert refused.status_code == 401
