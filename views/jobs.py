"""Jobs page: every recent job, its progress and log; cancel what still runs."""

import streamlit as st

from services import jobs
from views._job_widgets import jobs_table, live_job, log_view, outcome
from views._runtime import session

st.title("Jobs")
with session() as db:
    recent = jobs.list_jobs(session=db, limit=200)
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
with st.expander("Log", icon=":material/description:"):
    log_view(job)
