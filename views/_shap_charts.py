"""Plotly charts of a SHAP explanation in the raw features: the beeswarm summary, the mean |SHAP|
bar chart and one row's waterfall. Pure figure builders: no Streamlit here."""

import numpy as np
import plotly.graph_objects as go

from services.insights.reasons import shown_value
from services.insights.shap_result import Cell, ShapExplanation

RAISES, LOWERS, GREY = "#d6336c", "#1c7ed6", "#adb5bd"  # red up, blue down, as shap draws
VALUE_SCALE = [[0.0, LOWERS], [0.5, "#9775fa"], [1.0, RAISES]]  # feature value: low -> high
SPREAD = 0.8  # a beeswarm row's points stay within this height
BINS = 60  # along x, for spreading points that overlap


def beeswarm_figure(explanation: ShapExplanation, output: str, max_features: int = 20) -> go.Figure:
    """One row of points per feature (the most important on top), each point a row placed at
    its SHAP value; numeric features colored by the row's value (blue low, red high), others
    (and missing values) grey."""
    index = explanation.output_index(output)
    values = np.asarray(explanation.values[index], dtype=float).reshape(
        -1, len(explanation.features)
    )
    ranked = [name for name, _ in explanation.mean_abs(output)[:max_features]]
    figure = go.Figure()
    for position, name in enumerate(reversed(ranked)):
        column = explanation.features.index(name)
        shap_values = values[:, column]
        cells = [row[column] for row in explanation.data]
        y = position + _spread(shap_values)
        numeric = _numbers(cells)
        colored = ~np.isnan(numeric)
        text = np.array([shown_value(c) for c in cells], dtype=object)
        if colored.any():
            figure.add_trace(
                _points(
                    name, shap_values[colored], y[colored], text[colored], _ranks(numeric[colored])
                )
            )
        if (~colored).any():
            figure.add_trace(
                _points(name, shap_values[~colored], y[~colored], text[~colored], None)
            )
    figure.add_vline(x=0, line_width=1, line_color="#868e96")
    figure.update_layout(
        showlegend=False,
        coloraxis={
            "colorscale": VALUE_SCALE,
            "cmin": 0,
            "cmax": 1,
            "colorbar": {
                "title": {"text": "feature value"},
                "tickvals": [0, 1],
                "ticktext": ["low", "high"],
                "len": 0.6,
                "thickness": 12,
            },
        },
    )
    figure.update_yaxes(
        tickvals=list(range(len(ranked))),
        ticktext=list(reversed(ranked)),
        range=[-0.6, len(ranked) - 0.4],
        showgrid=False,
    )
    figure.update_xaxes(title_text=f"SHAP value (effect on the {explanation.space(output)})")
    return _tidy(figure, rows=len(ranked))


def importance_figure(
    explanation: ShapExplanation, output: str, max_features: int = 30
) -> go.Figure:
    """Mean |SHAP value| per raw feature, the most important on top."""
    ranked = explanation.mean_abs(output)[:max_features]
    figure = go.Figure(
        go.Bar(
            x=[value for _, value in ranked],
            y=[name for name, _ in ranked],
            orientation="h",
            marker_color=LOWERS,
            hovertemplate="%{y}: %{x:.4g}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed", type="category")
    space = explanation.space(output)
    figure.update_xaxes(title_text=f"mean |SHAP value| (average effect on the {space})")
    return _tidy(figure, rows=len(ranked))


def waterfall_figure(
    explanation: ShapExplanation, output: str, row: int, max_features: int = 10
) -> go.Figure:
    """From the average output (base value) to this row's prediction: the largest
    contributions one by one, the rest together as "other N features"."""
    index = explanation.output_index(output)
    contributions = explanation.contributions(output, row)
    shown, rest = contributions[:max_features], contributions[max_features:]
    labels = ["average (base value)"]
    labels += [f"{name} = {shown_value(value)}" for name, value, _ in shown]
    steps = [effect for _, _, effect in shown]
    if rest:
        labels.append(f"other {len(rest)} features")
        steps.append(sum(effect for _, _, effect in rest))
    labels.append("prediction")
    base = explanation.base_values[index]
    amounts = [base, *steps, explanation.prediction(output, row)]
    percent = explanation.output_kind == "probability"
    figure = go.Figure(
        go.Waterfall(
            orientation="h",
            y=labels,
            x=amounts,
            measure=["absolute"] + ["relative"] * len(steps) + ["total"],
            text=[
                _amount(a, percent, signed=0 < n < len(amounts) - 1) for n, a in enumerate(amounts)
            ],
            textposition="outside",
            increasing={"marker": {"color": RAISES}},
            decreasing={"marker": {"color": LOWERS}},
            totals={"marker": {"color": "#495057"}},
            connector={"line": {"color": GREY, "width": 1}},
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed", type="category")
    figure.update_xaxes(title_text=explanation.space(output), tickformat=".0%" if percent else None)
    return _tidy(figure, rows=len(labels))


def _points(
    name: str, x: np.ndarray, y: np.ndarray, text: np.ndarray, color: np.ndarray | None
) -> go.Scatter:
    marker: dict[str, object] = {"size": 5, "opacity": 0.8}
    marker |= {"color": color, "coloraxis": "coloraxis"} if color is not None else {"color": GREY}
    return go.Scatter(
        x=x,
        y=y,
        mode="markers",
        name=name,
        marker=marker,
        customdata=text,
        hovertemplate=f"{name} = %{{customdata}}<br>SHAP value %{{x:.4g}}<extra></extra>",
    )


def _numbers(cells: list[Cell]) -> np.ndarray:
    """The cells as numbers, NaN where a cell is text or missing (grey points)."""
    numbers = [
        float(c) if isinstance(c, int | float) and not isinstance(c, bool) else np.nan
        for c in cells
    ]
    return np.asarray(numbers, dtype=float)


def _ranks(numbers: np.ndarray) -> np.ndarray:
    """Each value's rank among the feature's values, 0 (lowest) to 1: an outlier does not
    wash the others' colors out."""
    if len(numbers) < 2 or np.ptp(numbers) == 0:
        return np.full(len(numbers), 0.5)
    order = numbers.argsort(kind="stable").argsort()
    return order / (len(numbers) - 1)


def _spread(values: np.ndarray) -> np.ndarray:
    """Vertical offsets that fan out the points falling close together (a beeswarm)."""
    offsets = np.zeros(len(values))
    if len(values) < 2 or np.ptp(values) == 0:
        bins = np.zeros(len(values), dtype=int)
    else:
        bins = np.floor((values - values.min()) / np.ptp(values) * (BINS - 1)).astype(int)
    crowd = np.bincount(bins).max()
    step = SPREAD / max(crowd, 1)
    for b in np.unique(bins):
        members = np.flatnonzero(bins == b)
        offsets[members] = (np.arange(len(members)) - (len(members) - 1) / 2) * step
    return offsets


def _amount(value: float, percent: bool, *, signed: bool) -> str:
    sign = "+" if signed and value > 0 else ""
    if percent:
        return f"{sign}{value * 100:.1f}{' points' if signed else '%'}"
    return f"{sign}{value:.4g}"


def _tidy(figure: go.Figure, *, rows: int) -> go.Figure:
    height = max(300, min(900, 90 + 26 * rows))
    figure.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10}, height=height)
    return figure
