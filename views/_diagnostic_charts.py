"""Plotly charts of a model's holdout diagnostics: one pure builder per chart, no Streamlit."""

import numpy as np
import plotly.graph_objects as go

from services.errors import InvalidInput
from services.insights.curves import Curve
from services.insights.dependence import DependenceCurve
from services.insights.diagnostics import ClassificationDiagnostics, Confusion
from services.insights.residuals import RegressionDiagnostics
from views._diagnostic_traces import (
    CLASSIFICATION_KINDS,
    MODEL_COLORS,
    REFERENCE,
    TREND_COLOR,
    area_text,
    calibration_trace,
    cook_contour,
    curve_trace,
    frame,
    gain_trace,
    influential_trace,
    lift_trace,
    note,
    points_trace,
    reference_line,
    tidy,
    titled,
    trend_trace,
)

COOK_LEVELS = (0.5, 1.0)

COMPARE_KINDS: dict[str, str] = {  # the page's choice of comparison chart: kind -> label
    "roc": "ROC curve",
    "pr": "Precision-recall curve",
    "calibration": "Calibration",
    "gain": "Cumulative gain",
    "lift": "Lift",
    "errors": "Share of predictions within an error",
    "residuals": "Residual trend",
}


def roc_figure(diagnostics: ClassificationDiagnostics) -> go.Figure:
    """True positive rate against false positive rate, one line per class shown."""
    tint = _single_tint(diagnostics.roc)
    traces = [curve_trace(curve, "roc", _named(curve, "AUC"), tint) for curve in diagnostics.roc]
    return frame(traces, "roc", _about(diagnostics.roc))


def pr_figure(diagnostics: ClassificationDiagnostics) -> go.Figure:
    """Precision against recall per class shown; binary: the guessing baseline too."""
    tint = _single_tint(diagnostics.pr)
    traces = [curve_trace(curve, "pr", _named(curve, "AP"), tint) for curve in diagnostics.pr]
    baseline = diagnostics.pr[0].baseline if diagnostics.binary else None
    return frame(traces, "pr", _about(diagnostics.pr), baseline=baseline)


def calibration_figure(diagnostics: ClassificationDiagnostics) -> go.Figure:
    """Observed share against mean predicted probability per bin, with the perfect diagonal."""
    trace = calibration_trace(diagnostics, "model", MODEL_COLORS[0])
    return frame([trace], "calibration", f"'{diagnostics.calibration.label}'")


def gain_figure(diagnostics: ClassificationDiagnostics) -> go.Figure:
    """Share of the class found against share of rows taken, best-scored rows first."""
    trace = gain_trace(diagnostics, "model", MODEL_COLORS[0])
    return frame([trace], "gain", f"'{diagnostics.gains.label}'")


def lift_figure(diagnostics: ClassificationDiagnostics) -> go.Figure:
    """How many times more of the class the top rows hold than a random pick would."""
    trace = lift_trace(diagnostics, "model", MODEL_COLORS[0])
    return frame([trace], "lift", f"'{diagnostics.gains.label}'")


def confusion_figure(confusion: Confusion) -> go.Figure:
    """Row counts by actual class (down) and predicted class (across)."""
    counts = np.asarray(confusion.counts)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    labels = [f"'{label}'" for label in confusion.labels]
    heatmap = go.Heatmap(
        z=shares,  # coloured by share of the actual class, so rare classes stay visible
        x=labels,
        y=labels,
        text=counts,
        texttemplate="%{text:,}",
        colorscale=[[0, "#f4f6fb"], [1, MODEL_COLORS[0]]],
        showscale=False,
        hovertemplate="actual %{y}, predicted %{x}: %{text:,} rows "
        "(%{z:.0%} of actual %{y})<extra></extra>",
    )
    figure = go.Figure([heatmap])
    figure.update_xaxes(title="Predicted", type="category", side="top")
    figure.update_yaxes(title="Actual", type="category", autorange="reversed")
    return tidy(figure)


def predicted_vs_actual_figure(diagnostics: RegressionDiagnostics) -> go.Figure:
    """Each kept row's prediction against its real value; the diagonal is perfect."""
    points = diagnostics.points
    low = min(*points.actual, *points.predicted)
    high = max(*points.actual, *points.predicted)
    figure = go.Figure(
        [
            points_trace(points.actual, points.predicted, points.row, "real %{x:,.4g}, predicted"),
            reference_line([low, high], [low, high], "perfect prediction"),
        ]
    )
    return titled(figure, "Real value", "Predicted value")


def residuals_vs_fitted_figure(diagnostics: RegressionDiagnostics) -> go.Figure:
    """Residuals against predictions (Tukey-Anscombe); the trend should stay flat at zero."""
    points = diagnostics.points
    figure = go.Figure(
        [
            points_trace(
                points.predicted, points.residual, points.row, "predicted %{x:,.4g}, error"
            ),
            trend_trace(diagnostics.fitted_trend, "trend", TREND_COLOR),
        ]
    )
    figure.add_hline(y=0, line=REFERENCE)
    return titled(figure, "Predicted value", "Error (real - predicted)")


def qq_figure(diagnostics: RegressionDiagnostics) -> go.Figure:
    """Sorted standardized residuals against normal quantiles; normal errors lie on the line."""
    qq = diagnostics.qq
    points = go.Scatter(
        x=qq.theoretical,
        y=qq.sample,
        mode="markers",
        name="residuals",
        marker={"size": 5, "color": MODEL_COLORS[0]},
        hovertemplate="expected %{x:.2f}, observed %{y:.2f}<extra></extra>",
    )
    ends = [min(qq.theoretical), max(qq.theoretical)]
    figure = go.Figure([points, reference_line(ends, ends, "normal")])
    return titled(figure, "Expected if errors were normal (quantile)", "Standardized residual")


def scale_location_figure(diagnostics: RegressionDiagnostics) -> go.Figure:
    """sqrt(|standardized residual|) against predictions; a rising trend: errors grow."""
    points = diagnostics.points
    spread = np.sqrt(np.abs(points.standardized)).round(4).tolist()
    figure = go.Figure(
        [
            points_trace(points.predicted, spread, points.row, "predicted %{x:,.4g}, spread"),
            trend_trace(diagnostics.scale_trend, "trend", TREND_COLOR),
        ]
    )
    figure.update_yaxes(rangemode="tozero")
    return titled(figure, "Predicted value", "√|standardized residual|")


def leverage_figure(diagnostics: RegressionDiagnostics) -> go.Figure:
    """Standardized residuals against leverage, Cook's distance 0.5 and 1 drawn as contours."""
    points, rank = diagnostics.points, diagnostics.parameters
    if points.leverage is None or points.cooks_distance is None or not rank:
        return note(diagnostics.leverage_note or "Leverage was not computed.")
    scatter = points_trace(points.leverage, points.standardized, points.row, "")
    scatter.update(
        customdata=np.column_stack([points.row, points.cooks_distance]),
        hovertemplate="row %{customdata[0]}: leverage %{x:.3g}, residual %{y:.2f}, "
        "Cook's distance %{customdata[1]:.3g}<extra></extra>",
    )
    reach = max(points.leverage) * 1.1
    contours = [cook_contour(level, rank, reach) for level in COOK_LEVELS]
    figure = go.Figure([scatter, influential_trace(diagnostics), *contours])
    bound = max(3.0, float(np.max(np.abs(points.standardized))) * 1.1)
    figure.update_xaxes(range=[0, reach])
    figure.update_yaxes(range=[-bound, bound])
    return titled(figure, "Leverage (how unusual the row's inputs are)", "Standardized residual")


def dependence_figure(curve: DependenceCurve) -> go.Figure:
    """The average prediction at each value of the feature, over the share of rows there."""
    if not curve.computed:
        return note(f"{curve.feature}: {curve.left_out}")
    numeric = curve.kind == "numeric"
    x: list[float] | list[str] = curve.values if numeric else curve.categories
    share = go.Bar(
        x=x,
        y=curve.share,
        name="share of rows",
        marker_color="#d5dbe8",
        hovertemplate="%{x}: %{y:.1%} of rows<extra></extra>",
    )
    average = go.Scatter(
        x=x,
        y=curve.average,
        yaxis="y2",  # the later axis is drawn on top: the bars stay behind the curve
        mode="lines+markers" if numeric else "markers",
        name="average prediction",
        marker={"color": MODEL_COLORS[0], "size": 8},
        hovertemplate="%{x}: average prediction %{y:.4g}<extra></extra>",
    )
    figure = go.Figure([share, average])
    figure.update_layout(
        yaxis={"title": "Share of rows", "side": "right", "tickformat": ".0%", "showgrid": False},
        yaxis2={"title": "Average prediction", "side": "left", "overlaying": "y"},
    )
    figure.update_xaxes(title=curve.feature, type="linear" if numeric else "category")
    return tidy(figure)


def compare_kinds(diagnostics: ClassificationDiagnostics | RegressionDiagnostics) -> list[str]:
    """The comparison charts offered for a model of this kind, as keys of COMPARE_KINDS."""
    if isinstance(diagnostics, ClassificationDiagnostics):
        return list(CLASSIFICATION_KINDS)
    return [kind for kind in COMPARE_KINDS if kind not in CLASSIFICATION_KINDS]


def compare_figure(
    a: ClassificationDiagnostics | RegressionDiagnostics,
    b: ClassificationDiagnostics | RegressionDiagnostics,
    kind: str,
    names: tuple[str, str] = ("A", "B"),
    *,
    label: str | None = None,
) -> go.Figure:
    """Models A and B on one chart of `kind` (see compare_kinds); `label`: a multiclass class."""
    if (
        isinstance(a, ClassificationDiagnostics)
        and isinstance(b, ClassificationDiagnostics)
        and kind in CLASSIFICATION_KINDS
    ):
        return _compare_classifiers(a, b, kind, names, label)
    if (
        isinstance(a, RegressionDiagnostics)
        and isinstance(b, RegressionDiagnostics)
        and kind in ("errors", "residuals")
    ):
        return _compare_regressions(a, b, kind, names)
    raise InvalidInput(f"{COMPARE_KINDS.get(kind, kind)} cannot compare these two models.")


def _compare_classifiers(
    a: ClassificationDiagnostics,
    b: ClassificationDiagnostics,
    kind: str,
    names: tuple[str, str],
    label: str | None,
) -> go.Figure:
    pair = list(zip((a, b), names, MODEL_COLORS, strict=True))
    if kind in ("roc", "pr"):
        measure = "AUC" if kind == "roc" else "AP"
        curves = [(_class_curve(d, kind, label), name, color) for d, name, color in pair]
        traces = [
            curve_trace(c, kind, f"{n} ({measure} {area_text(c)})", col) for c, n, col in curves
        ]
        first = curves[0][0]
        return frame(traces, kind, f"'{first.label}'", baseline=first.baseline)
    build = {"calibration": calibration_trace, "gain": gain_trace, "lift": lift_trace}[kind]
    about = a.calibration.label if kind == "calibration" else a.gains.label
    return frame([build(d, name, color) for d, name, color in pair], kind, f"'{about}'")


def _compare_regressions(
    a: RegressionDiagnostics, b: RegressionDiagnostics, kind: str, names: tuple[str, str]
) -> go.Figure:
    pair = list(zip((a, b), names, MODEL_COLORS, strict=True))
    if kind == "residuals":
        return frame([trend_trace(d.fitted_trend, n, c) for d, n, c in pair], kind, "")
    traces = [
        go.Scatter(
            x=d.errors.absolute_error,
            y=d.errors.share,
            mode="lines",
            name=name,
            line={"color": color},
            hovertemplate=f"{name}: %{{y:.0%}} of predictions within %{{x:,.4g}}<extra></extra>",
        )
        for d, name, color in pair
    ]
    figure = frame(traces, kind, "")
    figure.update_yaxes(tickformat=".0%", range=[0, 1.02])
    return figure


def _class_curve(diagnostics: ClassificationDiagnostics, kind: str, label: str | None) -> Curve:
    """The ROC or PR curve of class `label` (by default the positive or first class shown)."""
    curves = diagnostics.roc if kind == "roc" else diagnostics.pr
    wanted = label or diagnostics.positive or curves[0].label
    for curve in curves:
        if curve.label == wanted:
            return curve
    raise InvalidInput(f"There is no {COMPARE_KINDS[kind]} of '{wanted}' for one of the models.")


def _named(curve: Curve, measure: str) -> str:
    return f"'{curve.label}' ({measure} {area_text(curve)})"


def _single_tint(curves: list[Curve]) -> str | None:
    """The house colour for one curve; several take plotly's palette."""
    return MODEL_COLORS[0] if len(curves) == 1 else None


def _about(curves: list[Curve]) -> str:
    """The class a chart is about, or "the class" when it draws several."""
    return f"'{curves[0].label}'" if len(curves) == 1 else "the class"
