"""Job widgets shared by the pages that start jobs: live progress, cancel, outcome, log."""

import pandas as pd
import streamlit as st

from services import jobs
from services.access import Action, Actor
from services.models import JobPublic, Role
from views._runtime import (
    allowed,
    current_actor,
    plain,
    session,
    settings,
    show_error,
    shown_errors,
)

POLL_SECONDS = 1.0


@st.fragment(run_every=POLL_SECONDS)
def live_job(job_id: int) -> None:
    """Progress bar, step, elapsed time and Cancel (for those who may cancel) for one job,
    refreshed every second."""
    actor = current_actor()
    try:
        with session() as db:
            job = jobs.get_job(session=db, actor=actor, job_id=job_id)
    except Exception as error:
        show_error(error)
        return
    if job.state.finished:
        st.rerun()  # the page shows the outcome; this widget stops polling
    waiting = "Waiting for a free slot" if job.state.value == "queued" else job.step
    if job.cancel_requested:
        waiting = "Cancelling"
    st.progress(job.progress, text=f"{job.kind.capitalize()} #{job.id}: {waiting}")
    left, right = st.columns([4, 1])
    left.caption(f"{_duration(job.elapsed_seconds)} elapsed · started by {plain(job.owner)}")
    if not (allowed(actor, Action.cancel_job) or job.owner == actor.username):
        return
    if right.button("Cancel", key=f"cancel-{job.id}", icon=":material/stop_circle:"):
        try:
            with session() as db:
                jobs.cancel(session=db, settings=settings(), actor=actor, job_id=job.id)
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


def may_read_log(actor: Actor, job: JobPublic) -> bool:
    """Logs may quote the data: admins and the job's owner read them (as `jobs.log_tail`)."""
    return actor.role is Role.admin or job.owner == actor.username


def log_view(job: JobPublic) -> None:
    with shown_errors(), session() as db:
        tail = jobs.log_tail(session=db, actor=current_actor(), job_id=job.id, lines=200)
        st.code(tail or "(the log is empty)", language="text", height=300)


def _duration(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"
