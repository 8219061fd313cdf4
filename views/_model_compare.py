"""Two models of one training side by side: they were judged on the same holdout rows, so
their metrics and curves compare fairly."""

import pandas as pd
import streamlit as st

from services import explain, jobs
from services.automl.training import training_result
from services.explain import ModelRef
from services.insights.compare import Diagnostics, metric_comparison
from services.insights.compute import ModelInsights
from views import _diagnostic_charts as charts
from views._insights_cache import stored_insights
from views._runtime import current_actor, plain, session, show_error


def comparison(ref: ModelRef, insights: ModelInsights) -> None:
    other = _other_model(ref)
    if other is None:
        return
    theirs = stored_insights(other)
    if theirs is None:
        st.info(
            plain(
                f"The insights of {other.name} are not computed yet: choose it above as the model "
                "and compute them, then compare."
            )
        )
        return
    mine, other_diag = _diagnostics(insights), _diagnostics(theirs)
    if mine is None or other_diag is None or mine.kind != other_diag.kind:
        st.info("These two models cannot be compared: their holdout diagnostics differ in kind.")
        return
    st.dataframe(_metrics_table(mine, other_diag, (ref.name, other.name)), hide_index=True)
    kind = st.radio(
        "Chart",
        charts.compare_kinds(mine),
        format_func=charts.COMPARE_KINDS.__getitem__,
        horizontal=True,
    )
    st.plotly_chart(charts.compare_figure(mine, other_diag, kind, (ref.name, other.name)))


def _other_model(ref: ModelRef) -> ModelRef | None:
    actor = current_actor()
    try:
        with session() as db:
            job = jobs.get_job(session=db, actor=actor, job_id=ref.job_id)
            result = training_result(job)
            rows = [r for r in (result.ranked() if result else []) if r.model_id != ref.model_id]
            if not rows:
                st.info("This training has no other model to compare with.")
                return None
            names = {r.model_id: r.name for r in rows}
            chosen = st.selectbox("Compare with", list(names), format_func=names.__getitem__)
            return explain.model_ref(session=db, actor=actor, job_id=ref.job_id, model_id=chosen)
    except Exception as error:
        show_error(error)
        return None


def _diagnostics(insights: ModelInsights) -> Diagnostics | None:
    return insights.classification or insights.regression


def _metrics_table(a: Diagnostics, b: Diagnostics, names: tuple[str, str]) -> pd.DataFrame:
    """Each metric of both models, and which is better on it."""
    better = {"a": names[0], "b": names[1], None: "—"}
    return pd.DataFrame(
        [
            {"metric": m.metric, names[0]: m.a, names[1]: m.b, "better": better[m.better]}
            for m in metric_comparison(a, b)
        ]
    )
