"""Scoring a file on the Publish page: a CSV or Parquet upload (within the upload limit) scored
by a model of the project with `kaizen predict`'s own function, previewed, and downloaded as a
CSV that a spreadsheet never runs as formulas, or as Parquet."""

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from services.registry import RegisteredModelPublic
from services.serving.batch import safe_csv, score_file
from services.serving_models import PublicationPublic
from services.staging import check_size, staged
from views._publish_common import (
    Reference,
    model_picker,
    published_reference,
    reference_choice,
)
from views._runtime import current_actor, plain, session, settings, show_error

SCORED = "publish-scored"
PREVIEW_ROWS = 100
FILE_TYPES = ["csv", "parquet", "pq"]


@dataclass(frozen=True)
class ScoredFile:
    """What the last scoring made, kept for the reruns that follow (until another file)."""

    file_id: str
    model: str
    rows: int
    preview: pd.DataFrame
    csv: bytes
    parquet: bytes
    stem: str


def score_section(
    models: list[RegisteredModelPublic], publications: list[PublicationPublic]
) -> None:
    published = {p.model_name: p for p in publications}
    names = [m.name for m in models]
    first = next((n for n in names if n in published), None)
    model = model_picker(models, key="score-model", wanted=first)
    reference = reference_choice(
        model,
        key="score-ref",
        label="Score with",
        default=published_reference(published.get(model.name)),
    )
    limit = settings().max_upload_mb
    upload = st.file_uploader(
        "Table to score",
        type=FILE_TYPES,
        key="score-upload",
        help=f"CSV or Parquet with the model's input columns, up to {limit:,} MB. Other "
        "columns are kept in the output beside the scores.",
    )
    if upload is None:
        st.session_state.pop(SCORED, None)
        st.caption(
            "The output has the file's columns plus `prediction` and, for a classifier, one "
            "`proba_<class>` column per class, as `kaizen predict` writes them."
        )
        return
    if st.button("Score", type="primary", icon=":material/calculate:", key="score-go"):
        _score(upload, model.name, reference)
    shown = st.session_state.get(SCORED)
    if isinstance(shown, ScoredFile) and shown.file_id == upload.file_id:
        _show(shown)


def _score(upload: UploadedFile, name: str, reference: Reference) -> None:
    version, alias = reference
    current = settings()
    output = current.tmp_dir / f"scored-{uuid.uuid4().hex}.parquet"
    try:
        check_size(upload.size, upload.name, current)
        upload.seek(0)
        with st.spinner("Scoring..."), staged(upload, upload.name, current) as (path, _, _):
            with session() as db:
                scored = score_file(
                    session=db,
                    settings=current,
                    actor=current_actor(),
                    name=name,
                    version=version,
                    alias=alias,
                    source=path,
                    output=output,
                )
            parquet = output.read_bytes()
            frame = pd.read_parquet(output)
            csv = _safe_csv_bytes(frame, current.tmp_dir)
    except Exception as error:
        st.session_state.pop(SCORED, None)
        show_error(error)
        return
    finally:
        output.unlink(missing_ok=True)
    st.session_state[SCORED] = ScoredFile(
        file_id=upload.file_id,
        model=f"{scored.name} v{scored.version}",
        rows=scored.rows,
        preview=frame.head(PREVIEW_ROWS),
        csv=csv,
        parquet=parquet,
        stem=_stem(upload.name),
    )


def _show(scored: ScoredFile) -> None:
    st.success(
        plain(f"Scored {scored.rows:,} rows with {scored.model}."), icon=":material/check_circle:"
    )
    more = f" (the first {PREVIEW_ROWS} of {scored.rows:,})" if scored.rows > PREVIEW_ROWS else ""
    st.caption(f"Preview{more}")
    st.dataframe(scored.preview, hide_index=True, width="stretch")
    left, right = st.columns(2)
    left.download_button(
        "Download CSV",
        scored.csv,
        file_name=f"{scored.stem}-scored.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="score-csv",
        help="Text cells that start like a formula (=, +, -, @) are written with a leading ' "
        "so a spreadsheet shows them as text.",
    )
    right.download_button(
        "Download Parquet",
        scored.parquet,
        file_name=f"{scored.stem}-scored.parquet",
        mime="application/vnd.apache.parquet",
        icon=":material/download:",
        on_click="ignore",
        key="score-parquet",
    )


def _safe_csv_bytes(frame: pd.DataFrame, folder: Path) -> bytes:
    """The frame as `kaizen predict` writes CSV: formula-like text quoted."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"scored-{uuid.uuid4().hex}.csv"
    try:
        safe_csv(frame, path)
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def _stem(filename: str) -> str:
    """A download name from the upload's (letters, digits, '.', '_', '-' only)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(filename).stem).strip("-.")
    return stem[:100] or "scored"
