"""Job widgets shared by the pages that start jobs: live progress, cancel, outcome, log."""

import pandas as pd
import streamlit as st

from services import jobs
from services.models import JobPublic
from views._runtime import plain, session, settings, show_error

POLL_SECONDS = 1.0


@st.fragment(run_every=POLL_SECONDS)
def live_job(job_id: int) -> None:
    """Progress bar, step, elapsed time and Cancel for one job, refreshed every second."""
    with session() as db:
        job = jobs.get_job(session=db, job_id=job_id)
    if job.state.finished:
        st.rerun()  # the page shows the outcome; this widget stops polling
    waiting = "Waiting for a free slot" if job.state.value == "queued" else job.step
    if job.cancel_requested:
        waiting = "Cancelling"
    st.progress(job.progress, text=f"{job.kind.capitalize()} #{job.id}: {waiting}")
    left, right = st.columns([4, 1])
    left.caption(f"{_duration(job.elapsed_seconds)} elapsed · started by {plain(job.owner)}")
    if right.button("Cancel", key=f"cancel-{job.id}", icon=":material/stop_circle:"):
        try:
            with session() as db:
                jobs.cancel(session=db, settings=settings(), job_id=job.id)
        except Exception as error:
            show_error(error)
        st.rerun(scope="fragment")


def outcome(job: JobPublic) -> None:
    """How a finished job ended, in the user's words."""
    if job.state.value == "succeeded":
        st.success(
            f"{job.kind.capitalize()} #{job.id} finished in {_duration(job.elapsed_seconds)}."
        )
    elif job.state.value == "cancelled":
        st.info(f"{job.kind.capitalize()} #{job.id} was cancelled.")
    else:
        st.error(plain(job.error or "The job failed."), icon=":material/error:")


def jobs_table(found: list[JobPublic]) -> None:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "id": j.id,
                    "kind": j.kind,
                    "state": j.state.value,
                    "progress": j.progress,
                    "step": j.error or j.step,
                    "owner": j.owner,
                    "started": j.started_at,
                    "duration": _duration(j.elapsed_seconds),
                }
                for j in found
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "progress": st.column_config.ProgressColumn(min_value=0, max_value=1),
            "started": st.column_config.DatetimeColumn(format="distance"),
        },
    )


def log_view(job: JobPublic) -> None:
    tail = jobs.log_tail(job=job, lines=200)
    st.code(tail or "(the log is empty)", language="text", height=300)


def _duration(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"
