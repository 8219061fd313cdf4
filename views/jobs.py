"""Jobs page: the recent jobs of the user's projects (admins: every job), their progress and
log; cancel what still runs."""

import streamlit as st

from services import jobs
from services.models import Role
from views._job_widgets import jobs_table, live_job, log_view, may_read_log, outcome
from views._runtime import current_actor, session

st.title("Jobs")
actor = current_actor()
with session() as db:
    recent = jobs.list_jobs(session=db, actor=actor, limit=200)
if actor.role is Role.admin:
    st.caption("As an admin you see the jobs of every project.")
if not recent:
    st.info("No jobs yet. Uploads, profiling and training run here as jobs.")
    st.stop()
jobs_table(recent)
chosen = st.selectbox("Job", [j.id for j in recent], format_func=lambda i: f"#{i}")
job = next(j for j in recent if j.id == chosen)
if job.state.finished:
    outcome(job)
else:
    live_job(job.id)
if may_read_log(actor, job):
    with st.expander("Log", icon=":material/description:"):
        log_view(job)
else:
    st.caption("Only the job's owner and admins read its log (it may quote the data).")
