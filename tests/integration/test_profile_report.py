"""Full reports with ydata-profiling, made by real job processes: plans, cache, comparison,
the time limit, awkward tables, markup in the data, and the `kaizen profile` command."""

import datetime
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlmodel import Session

from services.config import Settings
from services.models import DatasetPublic, JobPublic, JobState
from services.profiling.report import latest_report, start_report
from services.profiling.report_plan import plan_report
from tests.support.actors import OPERATOR, add_file
from tests.support.jobs import wait_finished

KAIZEN = str(Path(sys.executable).parent / "kaizen")
REPORT_WAIT = 90.0  # a small minimal report takes ~4 s; a loaded machine gets room
PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>']
TIMED_OUT = "The full report did not finish within"


pytestmark = pytest.mark.real_jobs


def _add(
    session: Session, settings: Settings, tmp_path: Path, table: pa.Table, name: str
) -> DatasetPublic:
    path = tmp_path / f"{len(list(tmp_path.glob('*.parquet')))}.parquet"
    pq.write_table(table, path)
    return add_file(session, settings, path, name=name).dataset


def _start(
    session: Session,
    settings: Settings,
    dataset_id: int,
    *,
    compare_to: int | None = None,
    minimal: bool | None = True,  # small data and the minimal plan keep the tests quick
    time_limit_seconds: float | None = None,
) -> JobPublic:
    return start_report(
        actor=OPERATOR,
        session=session,
        settings=settings,
        dataset_id=dataset_id,
        compare_to=compare_to,
        minimal=minimal,
        time_limit_seconds=time_limit_seconds,
    )


def _finished(session: Session, job: JobPublic) -> JobPublic:
    return wait_finished(session, job.id, timeout=REPORT_WAIT)


def _customers(rows: int = 200, shift: int = 0) -> pa.Table:
    return pa.table(
        {
            "customer_id": list(range(rows)),
            "age": [18 + (i * 7 + shift) % 60 for i in range(rows)],
            "spend": [round((i * 13 + shift) % 97 * 1.5, 2) for i in range(rows)],
            "plan": [["free", "basic", "pro"][(i + shift) % 3] for i in range(rows)],
            "joined": [datetime.date(2020, 1, 1) + datetime.timedelta(days=i) for i in range(rows)],
        }
    )


def test_the_plan_is_chosen_by_size_and_says_so() -> None:
    small = plan_report(1_000, 10)
    assert (small.minimal, small.sample_rows, small.profiled_columns) == (False, None, 10)
    assert small.correlations == ["auto", "pearson", "spearman", "cramers"]
    assert not small.interactions  # scatter plots only for a handful of columns
    assert plan_report(50, 4).interactions

    big = plan_report(1_000_000, 30)
    assert (big.minimal, big.sample_rows, big.sample_seed) == (True, 500_000, 0)
    assert (big.correlations, big.interactions, big.missing_diagrams) == (["auto"], False, ["bar"])
    for fact in ("500,000 of the 1,000,000 rows", "seed 0", "minimal mode", "auto", "10 minutes"):
        assert fact in big.explanation

    wide = plan_report(100, 5_000, time_limit_seconds=30)
    assert (wide.profiled_columns, wide.correlations, wide.missing_diagrams) == (250, [], [])
    assert "the first 250 of the 5,000 columns" in wide.explanation
    assert "30 seconds" in wide.explanation
    assert plan_report(1_000, 10, minimal=True).minimal


def test_a_report_is_made_once_then_served_from_the_cache(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    dataset = _add(session, settings, tmp_path, _customers(), "customers")
    assert (
        latest_report(actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id)
        is None
    )

    job = _start(session, settings, dataset.id)
    assert _start(session, settings, dataset.id).id == job.id  # being made: the same job
    done = _finished(session, job)
    assert done.state == JobState.succeeded, done.error
    assert (done.kind, done.progress, done.step) == ("profile", 1.0, "Done")
    result = done.result or {}
    expected = plan_report(200, 5, minimal=True)
    assert result["plan"] == expected.model_dump(mode="json")
    assert result["cached"] is False and result["seconds"] > 0
    html, document = Path(result["html_path"]), Path(result["json_path"])
    assert html.parent == settings.home.resolve() / "profiles" / _key(session, dataset.id)
    assert "customer_id" in html.read_text(encoding="utf-8")
    parsed = json.loads(document.read_text(encoding="utf-8"))
    assert set(parsed["variables"]) == {"customer_id", "age", "spend", "plan", "joined"}
    assert parsed["kaizen"]["plan"]["explanation"] == expected.explanation

    again = _start(session, settings, dataset.id)  # finished as it is returned: no process
    assert again.id != done.id and again.state == JobState.succeeded
    assert again.result == {**result, "cached": True}
    info = latest_report(actor=OPERATOR, session=session, settings=settings, dataset_id=dataset.id)
    assert info is not None and info.html_path == str(html) and info.plan.minimal


def test_two_versions_side_by_side(session: Session, settings: Settings, tmp_path: Path) -> None:
    first = _add(session, settings, tmp_path, _customers(), "sales")
    added = pa.array(["north", PAYLOADS[1]] * 130)  # a new column, with markup in it
    changed = _customers(260, shift=5).append_column(PAYLOADS[0], added)
    second = _add(session, settings, tmp_path, changed, "sales")

    done = _finished(session, _start(session, settings, second.id, compare_to=first.id))
    assert done.state == JobState.succeeded, done.error
    result = done.result or {}
    html = Path(result["html_path"])
    assert html.name.endswith(f"-vs-{_key(session, first.id)}.html")
    page = html.read_text(encoding="utf-8")
    assert "sales v2" in page and "sales v1" in page
    assert _markup_from_data(page) == []
    titles = json.loads(Path(result["json_path"]).read_text())["kaizen"]["titles"]
    assert titles == ["sales v2", "sales v1"]
    found = latest_report(
        actor=OPERATOR,
        session=session,
        settings=settings,
        dataset_id=second.id,
        compare_to=first.id,
    )
    assert found is not None and found.html_path == str(html)
    assert (
        latest_report(actor=OPERATOR, session=session, settings=settings, dataset_id=second.id)
        is None
    )


def test_the_time_limit_stops_the_report_with_a_clear_message(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    wide = pa.table({f"measure {i}": [float(i * r % 17) for r in range(300)] for i in range(80)})
    dataset = _add(session, settings, tmp_path, wide, "wide")

    done = _finished(session, _start(session, settings, dataset.id, time_limit_seconds=3))
    assert done.state == JobState.failed
    assert done.error is not None and done.error.startswith(f"{TIMED_OUT} 3 seconds")
    assert "fewer columns" in done.error
    assert done.result == {"time_limit_seconds": 3.0}
    assert done.elapsed_seconds < 15  # start-up, 3 s of work, then it stops
    assert not list((settings.home / "profiles").rglob("*.html"))


def test_awkward_tables_finish_or_stop_at_the_limit(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    # 200,000-letter cells; 300-letter "words" first would break ydata-profiling's word cloud.
    long_text = [f"{i} " + ("x" * 300 + " ") * 3 + "y" * 200_000 for i in range(80)]
    tables = {
        "single row": pa.table({"a": [1], "b": ["x"], "c": [1.5]}),
        "all-null columns and long text": pa.table(
            {
                "essay": long_text,
                "nothing": pa.nulls(80),
                "no text": pa.array([None] * 80, pa.string()),
                "no number": pa.array([None] * 80, pa.float64()),
            }
        ),
    }
    started = {
        name: _start(
            session,
            settings,
            _add(session, settings, tmp_path, table, name).id,
            minimal=None if "text" in name else True,  # by size: full mode, with word clouds
        )
        for name, table in tables.items()
    }
    wide = tmp_path / "wide.csv"  # CSV: ingesting 5,000 Parquet columns takes ~20 s
    wide.write_text("\n".join(",".join(f"{r}{i}" for i in range(5_000)) for r in "c123") + "\n")
    added = add_file(session, settings, wide)
    started["5000 columns"] = _start(session, settings, added.dataset.id, time_limit_seconds=5)
    done = {name: _finished(session, job) for name, job in started.items()}
    for name, job in done.items():
        if name == "5000 columns" and job.state == JobState.failed:  # 250 columns of charts
            assert job.error is not None and job.error.startswith(f"{TIMED_OUT} 5 seconds")
            continue
        assert job.state == JobState.succeeded, f"{name}: {job.error}"
    text = done["all-null columns and long text"].result or {}
    assert not text["plan"]["minimal"]
    assert Path(text["html_path"]).stat().st_size < 5_000_000  # cells cut to 1,000 characters


def test_html_from_the_data_never_becomes_markup(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    assert _markup_from_data(f"<p>{PAYLOADS[1]}</p>")  # the check does see raw markup
    table = pa.table(
        {
            PAYLOADS[0]: [PAYLOADS[i % 3] for i in range(40)],
            PAYLOADS[1]: [i * 1.5 for i in range(40)],
            PAYLOADS[2]: [f"{PAYLOADS[i % 3]} said {i}" for i in range(40)],
            "plain": [PAYLOADS[2]] * 20 + ["fine"] * 20,
        }
    )
    dataset = _add(session, settings, tmp_path, table, PAYLOADS[1])  # in the title too

    done = _finished(session, _start(session, settings, dataset.id, minimal=None))  # full mode
    assert done.state == JobState.succeeded, done.error
    assert not (done.result or {})["plan"]["minimal"]
    page = Path((done.result or {})["html_path"]).read_text(encoding="utf-8")
    assert _markup_from_data(page) == []
    assert "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e" in page  # shown, as look-alikes


def test_the_profile_command_prints_one_json_document(tmp_path: Path) -> None:
    env = {**os.environ, "KAIZEN_HOME": str(tmp_path / "home")}

    def kaizen(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KAIZEN, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    table = tmp_path / "churn.csv"
    table.write_text("id,tenure,plan\n1,12,gold\n2,,basic\n3,40,gold\n4,7,basic\n")
    assert kaizen("datasets", "add", str(table), "--json").returncode == 0

    made = kaizen("profile", "1", "--minimal", "--json")
    assert made.returncode == 0, made.stderr
    document = json.loads(made.stdout)  # the whole of stdout: one document
    assert set(document) == {"job_id", "state", "report_path"}
    assert document["state"] == "succeeded" and Path(document["report_path"]).is_file()

    stopped = kaizen("profile", "1", "--time-limit", "0.2", "--json")  # full mode: not cached
    assert (stopped.returncode, stopped.stdout) == (2, "")
    assert stopped.stderr.startswith(f"error: Job 2: {TIMED_OUT} 0.2 seconds")
    assert stopped.stderr.count("\n") == 1


def _key(session: Session, dataset_id: int) -> str:
    from services.models import Dataset

    row = session.get(Dataset, dataset_id)
    assert row is not None
    return row.storage_key


class _Markup(HTMLParser):
    """Collects elements and attributes that could only have come from the data."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on"):  # ydata-profiling's own markup has no event handlers
                self.found.append(f"<{tag} {name}={value}>")
        if tag == "img" and ("src", "x") in attrs:
            self.found.append("<img src=x>")

    def handle_data(self, data: str) -> None:
        if self.in_script and "alert(" in data:
            self.found.append(f"<script>{data[:40]}")

    def handle_endtag(self, tag: str) -> None:
        self.in_script = False


def _markup_from_data(page: str) -> list[str]:
    parser = _Markup()
    parser.feed(page)
    return parser.found
