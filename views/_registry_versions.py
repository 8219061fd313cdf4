"""A registered model on the Registry page: which version holds each alias, and its versions
with their lineage (training job, dataset version, MLflow run), publications and insights."""

from typing import Any

import pandas as pd
import streamlit as st

from services.registry import ModelVersionPublic, RegisteredModelPublic
from views._runtime import plain

NOT_PUBLISHED = "not published"
VERSION_COLUMNS = [
    "version",
    "created",
    "author",
    "algorithm",
    "metric",
    "holdout score",
    "finalized",
    "aliases",
    "job",
    "dataset",
    "published",
    "run",
]


def alias_holders(model: RegisteredModelPublic, aliases: list[str]) -> None:
    """One figure per configured alias: the version holding it now, by Kaizen's record."""
    cells = st.columns(len(aliases) or 1)
    for cell, alias in zip(cells, aliases, strict=False):
        held = model.aliases.get(alias)
        cell.metric(alias, f"v{held}" if held is not None else "—")
    for warning in model.alias_warnings:
        st.warning(plain(warning), icon=":material/sync_problem:")


def versions_table(model: RegisteredModelPublic) -> None:
    st.dataframe(
        pd.DataFrame([_row(v) for v in model.versions], columns=VERSION_COLUMNS),
        hide_index=True,
        width="stretch",
        column_config={
            "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "holdout score": st.column_config.NumberColumn(format="%.4f"),
            "finalized": st.column_config.CheckboxColumn(
                help="Refit on every row (holdout included) after it was judged"
            ),
            "job": st.column_config.NumberColumn(format="#%d", help="The training job"),
            "run": st.column_config.TextColumn(help="The training's MLflow run"),
        },
    )


def insights_links(model: RegisteredModelPublic) -> None:
    """Each version's metrics, diagnostics and explanations, on the Models page."""
    for found in model.versions:
        algorithm = f" ({found.model_id})" if found.model_id else ""
        st.page_link(
            "views/models.py",
            label=plain(f"Version {found.version}{algorithm}: metrics and explanations"),
            icon=":material/insights:",
            query_params={"registered": model.name, "version": str(found.version)},
        )


def version_label(found: ModelVersionPublic) -> str:
    """ "v3 · lightgbm · AUC 0.9712 · production" for pickers."""
    parts = [f"v{found.version}"]
    if found.model_id:
        parts.append(found.model_id)
    if found.metric and found.holdout_score is not None:
        parts.append(f"{found.metric} {found.holdout_score:.4f}")
    if found.aliases:
        parts.append(", ".join(found.aliases))
    return " · ".join(parts)


def _row(found: ModelVersionPublic) -> dict[str, Any]:
    dataset = found.dataset_name
    return {
        "version": found.version,
        "created": found.created_at,
        "author": found.author or "",
        "algorithm": found.model_id or "",
        "metric": found.metric or "",
        "holdout score": found.holdout_score,
        "finalized": found.finalized,
        "aliases": ", ".join(found.aliases),
        "job": found.job_id,
        "dataset": f"{dataset} v{found.dataset_version}" if dataset else "",
        "published": _published(found.publications),
        "run": found.run_id or "",
    }


def _published(publications: list[dict[str, Any]]) -> str:
    if not publications:
        return NOT_PUBLISHED
    return ", ".join(str(p.get("kind") or p.get("url") or "published") for p in publications)
