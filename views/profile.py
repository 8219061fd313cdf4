"""Profile page: an instant summary with alerts and charts, then the full report as a job."""

import pandas as pd
import streamlit as st

from services import datasets
from services.access import Actor
from services.models import ColumnRole, DatasetPublic
from services.profiling import summary
from views import _profile_charts as charts
from views._pickers import version_picker
from views._report_view import full_report_section
from views._runtime import current_actor, current_project, plain, session, settings, shown_errors

NO_TARGET = "(no target)"


def target_choice(dataset: DatasetPublic) -> str | None:
    """The column to predict: the one marked target on the Datasets page, or the user's pick."""
    names = [c.name for c in dataset.column_infos]
    marked = next((c.name for c in dataset.column_infos if c.role == ColumnRole.target), None)
    options = [NO_TARGET, *names]
    chosen = st.selectbox(
        "Target",
        options,
        index=options.index(marked) if marked else 0,
        key=f"target-{dataset.id}",
        help="The column a model will predict; it adds balance and leakage checks.",
    )
    return None if chosen == NO_TARGET else chosen


def alerts_section(profile: summary.DatasetProfile) -> None:
    if not profile.alerts:
        st.success("No data quality problems found.", icon=":material/verified:")
    for alert in profile.alerts:
        show = st.warning if alert.severity == "warning" else st.info
        show(f"**{plain(alert.title)}** · {plain(alert.message)}")


def columns_table(profile: summary.DatasetProfile) -> None:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "column": c.name,
                    "kind": c.kind,
                    "missing %": c.missing_pct,
                    "distinct": c.distinct,
                    "min": _text(c.min),
                    "max": _text(c.max),
                    "mean": c.mean,
                    "top values": ", ".join(
                        f"{v['value']} ({v['count']:,})" for v in c.top_values[:5]
                    ),
                }
                for c in profile.column_summaries
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "missing %": st.column_config.NumberColumn(format="%.1f %%"),
            "mean": st.column_config.NumberColumn(format="%.4g"),
        },
    )


def charts_section(dataset: DatasetPublic, profile: summary.DatasetProfile) -> None:
    names = ["Missing values", "Distributions", "Correlations"]
    if profile.target_balance:
        names.append("Target balance")
    tabs = dict(zip(names, st.tabs(names), strict=True))
    with tabs["Missing values"]:
        st.plotly_chart(charts.missing_matrix(profile.missing_sample))
    with tabs["Distributions"]:
        chosen = st.multiselect(
            "Columns",
            [c.name for c in profile.column_summaries],
            default=[c.name for c in profile.column_summaries[:2]],
            key=f"dist-{dataset.id}",
            max_selections=6,
        )
        for name in chosen:
            data = _distribution(
                str(settings().home), dataset.id, dataset.sha256, name, current_actor()
            )
            st.plotly_chart(charts.distribution(name, data))
    with tabs["Correlations"]:
        if profile.correlation:
            st.plotly_chart(charts.correlation(profile.correlation))
        else:
            st.caption("Fewer than two numeric columns: nothing to correlate.")
    if profile.target_balance and profile.target:
        with tabs["Target balance"]:
            st.plotly_chart(charts.target_balance(profile.target, profile.target_balance))


# A dataset version never changes: each column's distribution is read from disk once.
# Home and content hash are part of the key, so a reused id never shows another table.
# `_actor` is not part of the key: the page shows charts only of a version the summary (which
# checks the actor) has just been read for.
@st.cache_data(max_entries=256, show_spinner=False)
def _distribution(
    home: str, dataset_id: int, sha256: str, column: str, _actor: Actor
) -> summary.NumericDistribution | summary.CategoricalDistribution:
    with session() as db:
        return summary.column_distribution(
            session=db, settings=settings(), actor=_actor, dataset_id=dataset_id, column=column
        )


def _text(value: object) -> str:
    return "" if value is None else str(value)


st.title("Profile")
with session() as db:
    names = [
        s.name
        for s in datasets.list_datasets(
            session=db, actor=current_actor(), project_id=current_project()
        )
    ]
if not names:
    st.info("No datasets in this project yet. Add one on the Datasets page first.")
    st.stop()
dataset = version_picker(names)
target = target_choice(dataset)
with shown_errors(), st.spinner("Summarising..."), session() as db:
    profile = summary.summarize(
        session=db,
        settings=settings(),
        actor=current_actor(),
        dataset_id=dataset.id,
        target=target,
    )
    cells = st.columns(4)
    cells[0].metric("Rows", f"{profile.rows:,}")
    cells[1].metric("Columns", f"{profile.columns:,}")
    cells[2].metric("Duplicate rows", f"{profile.duplicate_rows:,}")
    cells[3].metric("Alerts", f"{len(profile.alerts):,}")
    alerts_section(profile)
    columns_table(profile)
    charts_section(dataset, profile)
st.divider()
full_report_section(dataset)
