"""The parts the diagnostic charts are built of: traces, reference lines, axes and style."""

import numpy as np
import plotly.graph_objects as go

from services.insights.curves import Curve
from services.insights.diagnostics import ClassificationDiagnostics
from services.insights.residuals import RegressionDiagnostics, Trend

REFERENCE = {"color": "#9aa0a6", "dash": "dash", "width": 1}  # guessing, perfect, zero lines
MODEL_COLORS = ("#1f3b73", "#e07b39")  # model A, model B; a single model is A
TREND_COLOR = "#e07b39"
CLASSIFICATION_KINDS = ("roc", "pr", "calibration", "gain", "lift")
AXES = {  # kind -> (x title, y title); {label} is the class the chart is about
    "roc": ("False alarms (false positive rate)", "Share of {label} found (true positive rate)"),
    "pr": ("Share of {label} found (recall)", "Share of calls that are right (precision)"),
    "calibration": ("Predicted chance of {label}", "Share really {label}"),
    "gain": ("Share of rows, highest scores first", "Share of all {label} found"),
    "lift": ("Share of rows, highest scores first", "Lift (times better than random)"),
    "errors": ("Error (absolute difference from the real value)", "Share of predictions"),
    "residuals": ("Predicted value", "Average error (real - predicted)"),
}
DIAGONALS = {"roc": "guessing", "calibration": "perfectly calibrated", "gain": "random order"}


def frame(
    traces: list[go.Scatter], kind: str, about: str, *, baseline: float | None = None
) -> go.Figure:
    """The chart of `kind` around `traces`: its reference line, axis titles and ranges."""
    figure = go.Figure(traces)
    if kind in DIAGONALS:
        figure.add_trace(reference_line([0, 1], [0, 1], DIAGONALS[kind]))
    elif kind == "pr" and baseline is not None:  # several classes have no single baseline
        figure.add_trace(reference_line([0, 1], [baseline, baseline], "guessing"))
    elif kind == "lift":
        figure.add_trace(reference_line([0, 1], [1, 1], "random order"))
    if kind == "residuals":
        figure.add_hline(y=0, line=REFERENCE)
    if kind in CLASSIFICATION_KINDS:
        figure.update_xaxes(range=[-0.01, 1.01], tickformat=".0%")
        if kind != "lift":
            figure.update_yaxes(range=[-0.01, 1.02], tickformat=".0%")
    x_title, y_title = AXES[kind]
    return titled(figure, x_title.format(label=about), y_title.format(label=about))


def curve_trace(curve: Curve, kind: str, name: str, color: str | None = None) -> go.Scatter:
    """One ROC or precision-recall curve; hovering shows the threshold of each point."""
    x_word, y_word = ("false alarms", "found") if kind == "roc" else ("found", "precision")
    return go.Scatter(
        x=curve.x,
        y=curve.y,
        customdata=curve.thresholds,
        mode="lines",
        name=name,
        line={"color": color} if color else None,
        hovertemplate=f"{name}<br>{x_word} %{{x:.1%}}, {y_word} %{{y:.1%}}"
        "<br>threshold %{customdata:.3f}<extra></extra>",
    )


def calibration_trace(diagnostics: ClassificationDiagnostics, name: str, color: str) -> go.Scatter:
    bins = diagnostics.calibration
    return go.Scatter(
        x=bins.predicted,
        y=bins.observed,
        customdata=bins.counts,
        mode="lines+markers",
        name=name,
        line={"color": color},
        hovertemplate=f"{name}: predicted %{{x:.1%}}, observed %{{y:.1%}}"
        " over %{customdata:,} rows<extra></extra>",
    )


def gain_trace(diagnostics: ClassificationDiagnostics, name: str, color: str) -> go.Scatter:
    gains = diagnostics.gains
    return go.Scatter(
        x=[0.0, *gains.share_of_rows],
        y=[0.0, *gains.gain],
        mode="lines+markers",
        name=name,
        line={"color": color},
        hovertemplate=f"{name}: the top %{{x:.0%}} of rows hold %{{y:.0%}} of them<extra></extra>",
    )


def lift_trace(diagnostics: ClassificationDiagnostics, name: str, color: str) -> go.Scatter:
    gains = diagnostics.gains
    return go.Scatter(
        x=gains.share_of_rows,
        y=gains.lift,
        customdata=gains.group_lift,
        mode="lines+markers",
        name=name,
        line={"color": color},
        hovertemplate=f"{name}: the top %{{x:.0%}} of rows, lift %{{y:.2f}}"
        " (this tenth alone: %{customdata:.2f})<extra></extra>",
    )


def points_trace(x: list[float], y: list[float], rows: list[int], what: str) -> go.Scattergl:
    """Per-row markers (WebGL: up to 20,000 stay fluid); hover names the holdout row."""
    return go.Scattergl(
        x=x,
        y=y,
        customdata=rows,
        mode="markers",
        name="rows",
        marker={"size": 5, "opacity": 0.5, "color": MODEL_COLORS[0]},
        hovertemplate=f"row %{{customdata}}: {what} %{{y:,.4g}}<extra></extra>",
    )


def trend_trace(trend: Trend, name: str, color: str) -> go.Scatter:
    return go.Scatter(
        x=trend.x,
        y=trend.y,
        mode="lines",
        name=name,
        line={"color": color, "width": 2},
        hovertemplate=f"{name}: %{{y:,.4g}} around %{{x:,.4g}}<extra></extra>",
    )


def reference_line(x: list[float], y: list[float], name: str) -> go.Scatter:
    """A grey dashed reference line (guessing, perfect, zero)."""
    return go.Scatter(x=x, y=y, mode="lines", name=name, line=REFERENCE, hoverinfo="skip")


def note(text: str) -> go.Figure:
    """An empty chart that says why it is empty."""
    figure = go.Figure()
    figure.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return tidy(figure)


def area_text(curve: Curve) -> str:
    return "n/a" if curve.area is None else f"{curve.area:.3f}"


def titled(figure: go.Figure, x_title: str, y_title: str) -> go.Figure:
    figure.update_xaxes(title=x_title)
    figure.update_yaxes(title=y_title)
    return tidy(figure)


def tidy(figure: go.Figure) -> go.Figure:
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=380,
        plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="closest",
    )
    figure.update_xaxes(showline=True, linecolor="#d0d4da", gridcolor="#eef0f3", zeroline=False)
    figure.update_yaxes(showline=True, linecolor="#d0d4da", gridcolor="#eef0f3", zeroline=False)
    return figure


def influential_trace(diagnostics: RegressionDiagnostics) -> go.Scatter:
    """The rows with the largest Cook's distance, labelled with their row number."""
    top = diagnostics.influential
    return go.Scatter(
        x=[row.leverage for row in top],
        y=[row.standardized_residual for row in top],
        text=[f"row {row.row}" for row in top],
        customdata=[row.cooks_distance for row in top],
        mode="markers+text",
        textposition="middle right",
        name="largest Cook's distance",
        marker={"size": 9, "color": TREND_COLOR, "symbol": "circle-open", "line": {"width": 2}},
        hovertemplate="%{text}: Cook's distance %{customdata:.3g}<extra></extra>",
    )


def cook_contour(level: float, rank: int, reach: float) -> go.Scatter:
    """Where Cook's distance equals `level`: r = ±sqrt(level * p * (1 - h) / h), both signs."""
    leverage = np.linspace(reach / 200, min(reach, 0.999), 100)
    residual = np.sqrt(level * rank * (1 - leverage) / leverage)
    gap = [None]  # one trace for both branches: a break between them
    return go.Scatter(
        x=[*leverage, *gap, *leverage],
        y=[*residual, *gap, *(-residual)],
        mode="lines",
        name=f"Cook's distance {level:g}",
        line={**REFERENCE, "dash": "dot" if level < 1 else "dash"},
        hoverinfo="skip",
    )
