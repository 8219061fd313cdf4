"""A model's insights on the Models page: performance on the holdout, what drives it, single
rows and what-if, and a comparison with another model of the same training."""

import pandas as pd
import streamlit as st

from services.explain import ModelRef
from services.insights.compute import ModelInsights
from services.insights.diagnostics import ClassificationDiagnostics, confusion_at
from services.insights.residuals import RegressionDiagnostics
from views import _diagnostic_charts as charts
from views import _shap_charts as shap_charts
from views._model_compare import comparison
from views._runtime import plain
from views._what_if import single_rows


def insights_tabs(ref: ModelRef, insights: ModelInsights) -> None:
    performance, drivers, rows, compare = st.tabs(
        ["Performance", "What drives it", "Single predictions", "Compare"]
    )
    with performance:
        if insights.classification is not None:
            classification(insights.classification)
        if insights.regression is not None:
            regression(insights.regression)
    with drivers:
        explanations(insights)
    with rows:
        single_rows(ref, insights)
    with compare:
        comparison(ref, insights)


def metrics_row(metrics: dict[str, float | None]) -> None:
    shown = {name: value for name, value in metrics.items() if value is not None}
    for cell, (name, value) in zip(st.columns(len(shown) or 1), shown.items(), strict=False):
        cell.metric(name, f"{value:.4g}")


def classification(diag: ClassificationDiagnostics) -> None:
    st.markdown(f"**On {diag.rows:,} holdout rows.** {plain(diag.reading)}")
    metrics_row(diag.metrics)
    threshold = None
    if diag.binary:
        threshold = st.slider(
            f"Decision threshold: a row is called '{diag.positive}' from this chance on",
            0.0,
            1.0,
            0.5,
            0.01,
        )
    confusion = confusion_at(diag, threshold if threshold is not None else 0.5)
    left, right = st.columns(2)
    left.plotly_chart(charts.confusion_figure(confusion))
    right.markdown(plain(confusion.reading))
    left, right = st.columns(2)
    left.plotly_chart(charts.roc_figure(diag))
    right.plotly_chart(charts.pr_figure(diag))
    left, right = st.columns(2)
    left.plotly_chart(charts.calibration_figure(diag))
    right.plotly_chart(charts.gain_figure(diag))
    st.plotly_chart(charts.lift_figure(diag))


def regression(diag: RegressionDiagnostics) -> None:
    st.markdown(f"**On {diag.rows:,} holdout rows.** {plain(diag.reading)}")
    metrics_row(diag.metrics)
    st.plotly_chart(charts.predicted_vs_actual_figure(diag))
    st.caption(
        "Residual diagnostics: a good model shows no pattern in the first and third charts, "
        "points on the line in the second, and no point far out in the fourth."
    )
    left, right = st.columns(2)
    left.plotly_chart(charts.residuals_vs_fitted_figure(diag))
    right.plotly_chart(charts.qq_figure(diag))
    left, right = st.columns(2)
    left.plotly_chart(charts.scale_location_figure(diag))
    right.plotly_chart(charts.leverage_figure(diag))


def explanations(insights: ModelInsights) -> None:
    explanation = insights.shap
    if explanation is None:
        st.warning(plain(insights.shap_error or "There are no SHAP values for this model."))
        return
    st.caption(
        plain(
            f"{explanation.explainer_label}; {explanation.sample_rows:,} holdout rows explained "
            f"against {explanation.background_rows:,} training rows."
        )
    )
    output = explanation.outputs[0]
    if len(explanation.outputs) > 1:
        output = st.selectbox("Explain the chance of", explanation.outputs)
    left, right = st.columns(2)
    left.plotly_chart(shap_charts.importance_figure(explanation, output))
    right.plotly_chart(shap_charts.beeswarm_figure(explanation, output))
    dependence(insights)


def dependence(insights: ModelInsights) -> None:
    if not insights.dependence:
        return
    st.subheader("How the prediction changes with each top feature", anchor=False)
    st.caption("Partial dependence: the average prediction as one feature varies, others kept.")
    columns = st.columns(2)
    for position, curve in enumerate(insights.dependence):
        columns[position % 2].plotly_chart(charts.dependence_figure(curve))


def importance_table(insights: ModelInsights) -> pd.DataFrame:
    return pd.DataFrame(insights.importance(), columns=["feature", "mean |SHAP|"])
