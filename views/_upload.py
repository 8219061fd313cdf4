"""The Datasets page's upload box: pick a file, start the ingest job, follow it to the end."""

from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from services import datasets, jobs, uploads
from services.ingest.detect import EXTENSIONS
from services.models import JobPublic
from views._job_widgets import live_job, outcome
from views._runtime import (
    current_actor,
    current_project,
    session,
    settings,
    show_error,
    shown_errors,
)

FILE_TYPES = [extension.lstrip(".") for extension in EXTENSIONS]


def upload_section() -> None:
    """File picker, name and sheet choice, the add button, then the ingest jobs' progress."""
    with st.container(border=True):
        st.subheader("Add a dataset", anchor=False)
        # A fresh key after each upload empties the picker for the next file.
        upload = st.file_uploader(
            "Table file",
            type=FILE_TYPES,
            key=f"upload-{st.session_state.get('uploads', 0)}",
            help="CSV, TSV, Excel, Parquet or JSON lines",
        )
        if upload is not None:
            name = st.text_input(
                "Dataset name",
                value=upload.name.rsplit(".", 1)[0],
                help="A file uploaded under an existing name becomes its new version.",
            )
            sheet = _sheet_choice(upload)
            if st.button("Add dataset", type="primary", icon=":material/add:"):
                _start(upload, name, sheet)
        _ingest_status()


def _sheet_choice(upload: UploadedFile) -> str | None:
    if not upload.name.lower().endswith((".xlsx", ".xlsm")):
        return None
    cache = st.session_state.setdefault("sheets", {})
    if upload.file_id not in cache:
        with shown_errors():
            upload.seek(0)
            with session() as db:
                cache[upload.file_id] = datasets.upload_sheets(
                    session=db,
                    settings=settings(),
                    actor=current_actor(),
                    source=upload,
                    filename=upload.name,
                )
    sheets = cache.get(upload.file_id) or []
    if len(sheets) < 2:
        return sheets[0] if sheets else None
    return st.selectbox("Sheet", sheets, help="This workbook has several sheets; pick the table.")


def _start(upload: UploadedFile, name: str, sheet: str | None) -> None:
    upload.seek(0)
    try:
        with session() as db:
            staged = uploads.stage_upload(
                session=db,
                settings=settings(),
                actor=current_actor(),
                source=upload,
                filename=upload.name,
            )
        _submit(staged, upload.name, name, sheet, rename=False)
    except Exception as error:
        show_error(error)
        return
    st.session_state["uploads"] = st.session_state.get("uploads", 0) + 1
    st.rerun()


def _submit(staged: Path, filename: str, name: str, sheet: str | None, *, rename: bool) -> None:
    with session() as db:
        job = uploads.start_ingest(
            session=db,
            settings=settings(),
            actor=current_actor(),
            project_id=current_project(),
            staged=staged,
            filename=filename,
            name=name,
            sheet=sheet,
            rename_columns=rename,
        )
    st.session_state["watched_ingest"] = job.id


def _ingest_status() -> None:
    """The project's running ingest jobs (they survive a refresh), and how the one started
    here ended."""
    actor, project = current_actor(), current_project()
    with session() as db:
        active = jobs.list_jobs(session=db, actor=actor, kind="ingest", active_only=True)
        watched_id = st.session_state.get("watched_ingest")
        watched = jobs.get_job(session=db, actor=actor, job_id=watched_id) if watched_id else None
    for job in active:
        if job.project_id != project:
            continue
        live_job(job.id)
    if watched is not None and watched.state.finished:
        _report(watched)


def _report(job: JobPublic) -> None:
    result = job.result or {}
    if job.state.value == "succeeded":
        st.session_state.pop("watched_ingest")
        st.session_state["selected_name"] = result["name"]
        st.session_state[f"version-{result['name']}"] = result["version"]
        st.session_state["flash"] = (
            f"Added {result['name']} version {result['version']}."
            if result["created"]
            else f"This file is already stored as {result['name']} version {result['version']}; "
            "nothing was added."
        )
        st.rerun()
    outcome(job)
    if "suggested_names" in result:
        st.dataframe(pd.DataFrame({"suggested name": result["suggested_names"]}), hide_index=True)
        if st.button("Use these names and add", icon=":material/check:"):
            params = job.params
            with shown_errors():
                _submit(
                    Path(params["staged"]),
                    params["filename"],
                    params["name"],
                    params["sheet"],
                    rename=True,
                )
                st.rerun()
