"""The full profiling report: start it as a job, follow it, then read it in a sandbox."""

import html
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from services import datasets, jobs
from services.access import Action
from services.models import DatasetPublic
from services.profiling import report
from services.profiling.report_plan import plan_report
from views._job_widgets import live_job, outcome
from views._runtime import allowed, current_actor, plain, session, settings, show_error

NO_COMPARISON = "(no comparison)"
REPORT_HEIGHT = 900


def full_report_section(dataset: DatasetPublic) -> None:
    """Plan, progress or result of the full report for one version (optionally vs another)."""
    st.subheader("Full report", anchor=False)
    plan = plan_report(
        dataset.rows, dataset.columns, time_limit_seconds=settings().profile_time_limit_seconds
    )
    st.caption(plain(plan.explanation))
    compare_to = _comparison_choice(dataset)
    actor = current_actor()
    with session() as db:
        running = [
            j
            for j in jobs.list_jobs(session=db, actor=actor, kind="profile", active_only=True)
            if j.params.get("dataset_id") == dataset.id and j.params.get("compare_to") == compare_to
        ]
        ready = report.latest_report(
            session=db,
            settings=settings(),
            actor=actor,
            dataset_id=dataset.id,
            compare_to=compare_to,
        )
    if running:
        live_job(running[0].id)
    elif ready is not None:
        _show(ready)
    else:
        _failed_attempt(dataset.id, compare_to)
        if not allowed(actor, Action.profile):
            st.caption(
                f"No full report yet. Your role ({actor.role.value}) can read reports; "
                "an analyst can build one."
            )
            return
        label = "Build full report" if compare_to is None else "Compare versions"
        if st.button(label, type="primary", icon=":material/analytics:"):
            _start(dataset.id, compare_to)


def _comparison_choice(dataset: DatasetPublic) -> int | None:
    with session() as db:
        others = [
            v
            for v in datasets.list_versions(
                session=db,
                actor=current_actor(),
                project_id=dataset.project_id,
                name=dataset.name,
            )
            if v.id != dataset.id
        ]
    if not others:
        return None
    by_label = {f"v{v.version}": v.id for v in others}
    chosen = st.selectbox(
        "Compare with",
        [NO_COMPARISON, *by_label],
        key=f"vs-{dataset.id}",
        help="Profile two versions side by side to see what changed.",
    )
    return by_label.get(chosen)


def _start(dataset_id: int, compare_to: int | None) -> None:
    try:
        with session() as db:
            job = report.start_report(
                session=db,
                settings=settings(),
                actor=current_actor(),
                dataset_id=dataset_id,
                compare_to=compare_to,
            )
    except Exception as error:
        show_error(error)
        return
    st.session_state[_attempt_key(dataset_id, compare_to)] = job.id
    st.rerun()


def _failed_attempt(dataset_id: int, compare_to: int | None) -> None:
    """How the last report started here ended, when it did not produce a report."""
    job_id = st.session_state.get(_attempt_key(dataset_id, compare_to))
    if job_id is not None:
        try:
            with session() as db:
                job = jobs.get_job(session=db, actor=current_actor(), job_id=job_id)
        except Exception as error:
            show_error(error)
            return
        if job.state.finished:
            outcome(job)


def _attempt_key(dataset_id: int, compare_to: int | None) -> str:
    return f"report-job-{dataset_id}-{compare_to}"


def _show(ready: report.ReportInfo) -> None:
    left, right = st.columns(2)
    html_path, json_path = Path(ready.html_path), Path(ready.json_path)
    left.download_button(
        "Download HTML",
        _file_bytes(ready.html_path),
        file_name=html_path.name,
        mime="text/html",
        icon=":material/download:",
    )
    right.download_button(
        "Download JSON",
        _file_bytes(ready.json_path),
        file_name=json_path.name,
        mime="application/json",
        icon=":material/download:",
    )
    components.html(_sandboxed_frame(ready.html_path), height=REPORT_HEIGHT)


# Reports are written once and never change: read and escape them once, not on every rerun.
@st.cache_data(max_entries=8, show_spinner=False)
def _file_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


@st.cache_data(max_entries=8, show_spinner=False)
def _sandboxed_frame(path: str) -> str:
    """The report in an iframe with scripts but no same-origin access: whatever the report
    holds cannot reach the app, its cookies or its session."""
    document = html.escape(Path(path).read_text(encoding="utf-8"), quote=True)
    return (
        f'<iframe sandbox="allow-scripts" srcdoc="{document}" '
        f'style="width:100%;height:{REPORT_HEIGHT - 10}px;border:0"></iframe>'
    )
