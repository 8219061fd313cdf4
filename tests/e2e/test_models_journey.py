"""From a finished training's leaderboard to a stacked ensemble's insights in a real browser:
metrics and diagnostic charts, global SHAP, and one row explained in words."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sklearn.datasets import load_breast_cancer

from tests.support.e2e import kaizen, sign_in

pytestmark = pytest.mark.e2e

INSIGHTS_TIMEOUT_MS = 180_000  # the job's start, loading the model, SHAP within its bound


def test_open_an_ensemble_from_the_leaderboard_and_read_its_insights(
    app_url: str, page: Page, kaizen_home: Path, tmp_path: Path
) -> None:
    source = tmp_path / "cancer.csv"
    load_breast_cancer(as_frame=True).frame.iloc[:, [*range(8), 30]].to_csv(source, index=False)
    kaizen(kaizen_home, "datasets", "add", str(source))
    # The best-quality preset on three quick models blends and stacks them within a minute.
    kaizen(kaizen_home, "train", "1", "--target", "target", "--preset", "best",
           "--include", "lr,nb,dt", "--budget", "60", timeout=180)  # fmt: skip

    sign_in(page, app_url)
    page.get_by_role("link", name="Train").click()
    expect(page.get_by_text("Registered as default-cancer-target version 1")).to_be_visible(
        timeout=30_000
    )
    page.get_by_role("link", name=re.compile("^Metrics and explanations of")).click()
    expect(page.get_by_role("heading", name="Models")).to_be_visible(timeout=30_000)

    page.get_by_role("combobox", name="Model").click()
    page.get_by_role("option", name=re.compile("^Stack of")).click()
    page.get_by_role("button", name="Compute insights").click()
    performance = page.get_by_role("tab", name="Performance")
    expect(performance).to_be_visible(timeout=INSIGHTS_TIMEOUT_MS)

    expect(page.get_by_text(re.compile(r"On 114 holdout rows\."))).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"At a threshold of 0\.50: Out of 100 rows"))
    ).to_be_visible()
    # Plotly draws each chart on its own after the page arrives, so wait for the sixth:
    # confusion, ROC, precision-recall, calibration, gain and lift.
    expect(page.locator(".js-plotly-plot").nth(5)).to_be_visible(timeout=30_000)

    page.get_by_role("tab", name="What drives it").click()
    expect(page.get_by_text(re.compile(r"Permutation SHAP, probability of '1'"))).to_be_visible()
    page.get_by_role("tab", name="Single predictions").click()
    expect(page.get_by_text(re.compile(r"^Predicted .* mostly because"))).to_be_visible(
        timeout=60_000
    )
    assert re.search(r"[?&]model=stack", page.url), page.url
