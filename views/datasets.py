"""Datasets page: upload a table, then read its schema, rows and versions."""

import pandas as pd
import streamlit as st

from services import datasets
from services.access import Action
from services.models import ColumnRole, DatasetPublic
from views._pickers import version_picker
from views._runtime import (
    allowed,
    current_actor,
    current_project,
    plain,
    session,
    settings,
    shown_errors,
)
from views._upload import upload_section

ROLES = [role.value for role in ColumnRole]


def dataset_picker() -> DatasetPublic | None:
    """Choose a dataset of the current project by name, then one of its versions (newest by
    default)."""
    with session() as db:
        summaries = datasets.list_datasets(
            session=db, actor=current_actor(), project_id=current_project()
        )
    if not summaries:
        if allowed(current_actor(), Action.upload):
            st.info("No datasets yet. Upload a CSV, Excel, Parquet or JSON lines file above.")
        else:
            st.info("No datasets in this project yet. An analyst can add them.")
        return None
    st.subheader("Your datasets", anchor=False)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "name": s.name,
                    "versions": s.versions,
                    "latest": f"v{s.latest_version}",
                    "rows": s.rows,
                    "columns": s.columns,
                    "updated": s.updated_at,
                }
                for s in summaries
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={"updated": st.column_config.DatetimeColumn(format="distance")},
    )
    return version_picker([s.name for s in summaries])


def _human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if size < 1000:
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1000  # type: ignore[assignment]
    return f"{size:,.1f} GB"


def overview(dataset: DatasetPublic) -> None:
    cells = st.columns(4)
    cells[0].metric("Rows", f"{dataset.rows:,}")
    cells[1].metric("Columns", f"{dataset.columns:,}")
    cells[2].metric("File", dataset.source_format.upper(), help=plain(dataset.source_filename))
    cells[3].metric("Size", _human_size(dataset.size_bytes))
    details = [f"from {dataset.source_filename}"]
    if dataset.sheet:
        details.append(f"sheet {dataset.sheet}")
    if dataset.encoding:
        details.append(f"encoding {dataset.encoding}")
    st.caption(plain(" · ".join(details)) + f" · SHA-256 {dataset.sha256[:12]}")


def schema_tab(dataset: DatasetPublic) -> None:
    """The inferred columns; the role column is editable by those who may change datasets."""
    frame = pd.DataFrame([c.model_dump(mode="json") for c in dataset.column_infos])
    frame = frame[["name", "kind", "role", "missing", "dtype"]]
    if not allowed(current_actor(), Action.edit_dataset):
        st.dataframe(frame, hide_index=True, width="stretch")
        return
    with st.form(f"roles-{dataset.id}", border=False):
        edited = st.data_editor(
            frame,
            hide_index=True,
            width="stretch",
            disabled=["name", "kind", "missing", "dtype"],
            column_config={
                "role": st.column_config.SelectboxColumn(
                    "role", options=ROLES, required=True, help="How training treats the column"
                ),
                "missing": st.column_config.NumberColumn("missing", format="%d"),
            },
        )
        if st.form_submit_button("Save roles", icon=":material/save:"):
            with shown_errors(), session() as db:
                roles = dict(zip(edited["name"], edited["role"], strict=True))
                datasets.set_column_roles(
                    session=db, actor=current_actor(), dataset_id=dataset.id, roles=roles
                )
                st.session_state["flash"] = "Column roles saved."
                st.rerun()


def preview_tab(dataset: DatasetPublic) -> None:
    size = settings().preview_page_size
    pages = max(1, -(-dataset.rows // size))
    page = st.number_input(
        "Page", min_value=1, max_value=pages, value=1, step=1, key=f"page-{dataset.id}"
    )
    with session() as db:
        shown = datasets.preview(
            session=db,
            settings=settings(),
            actor=current_actor(),
            dataset_id=dataset.id,
            page=int(page),
        )
    st.dataframe(shown.table, hide_index=True, width="stretch")
    first = (shown.page - 1) * size + 1
    st.caption(
        f"Rows {first:,} to {first + shown.table.num_rows - 1:,} of {shown.total_rows:,} "
        f"· page {shown.page} of {shown.pages}"
    )


def versions_tab(dataset: DatasetPublic) -> None:
    with session() as db:
        versions = datasets.list_versions(
            session=db, actor=current_actor(), project_id=dataset.project_id, name=dataset.name
        )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "version": v.version,
                    "id": v.id,
                    "added": v.created_at,
                    "rows": v.rows,
                    "columns": v.columns,
                    "file": v.source_filename,
                    "sha256": v.sha256[:12],
                }
                for v in versions
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    if not allowed(current_actor(), Action.delete_dataset):
        return
    with st.popover("Delete this version", icon=":material/delete:"):
        st.write(f"Delete {plain(dataset.name)} version {dataset.version}? This cannot be undone.")
        if st.button("Delete", type="primary", key=f"delete-{dataset.id}"):
            with shown_errors(), session() as db:
                datasets.delete_dataset(
                    session=db, settings=settings(), actor=current_actor(), dataset_id=dataset.id
                )
                st.session_state["flash"] = f"Deleted {dataset.name} version {dataset.version}."
                st.rerun()


st.title("Datasets")
if flash := st.session_state.pop("flash", None):
    st.success(plain(flash), icon=":material/check_circle:")
if allowed(current_actor(), Action.upload):
    upload_section()
if (chosen := dataset_picker()) is not None:
    overview(chosen)
    schema, rows, history = st.tabs(["Schema", "Preview", "Versions"])
    with schema:
        schema_tab(chosen)
    with rows:
        preview_tab(chosen)
    with history:
        versions_tab(chosen)
