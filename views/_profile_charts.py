"""Plotly charts of a dataset profile: missing values, distributions, correlations, target."""

import itertools

import plotly.express as px
import plotly.graph_objects as go

from services.profiling.summary import (
    CategoricalDistribution,
    ClassShare,
    Correlation,
    MissingSample,
    NumericDistribution,
)


def missing_matrix(sample: MissingSample) -> go.Figure:
    """Sampled rows down, columns across; dark where a value is missing."""
    figure = px.imshow(
        [[1 if missing else 0 for missing in row] for row in sample["rows"]],
        x=sample["columns"],
        color_continuous_scale=["#e8eefc", "#1f3b73"],
        aspect="auto",
        labels={"x": "column", "y": "sampled row", "color": "missing"},
    )
    figure.update_coloraxes(showscale=False)
    return _tidy(figure)


def distribution(name: str, data: NumericDistribution | CategoricalDistribution) -> go.Figure:
    """A histogram for numbers, the most frequent values for everything else."""
    if data["kind"] == "numeric":
        edges = data["edges"]
        if all(isinstance(edge, int | float) for edge in edges):
            numbers = [float(edge) for edge in edges]
            middles = [(low + high) / 2 for low, high in itertools.pairwise(numbers)]
            figure = px.bar(x=middles, y=data["counts"], labels={"x": name, "y": "rows"})
            figure.update_traces(width=[high - low for low, high in itertools.pairwise(numbers)])
        else:  # dates and times arrive as ISO text: bars start at each bin's left edge
            figure = px.bar(x=edges[:-1], y=data["counts"], labels={"x": name, "y": "rows"})
    else:
        figure = px.bar(
            x=data["counts"],
            y=[str(v) for v in data["values"]],
            orientation="h",
            labels={"x": "rows", "y": name},
        )
        figure.update_yaxes(autorange="reversed", type="category")
    return _tidy(figure)


def correlation(data: Correlation) -> go.Figure:
    figure = px.imshow(
        data["matrix"],
        x=data["columns"],
        y=data["columns"],
        zmin=-1,
        zmax=1,
        color_continuous_scale="RdBu_r",
        text_auto=".2f",
        aspect="auto",
    )
    return _tidy(figure)


def target_balance(target: str, balance: list[ClassShare]) -> go.Figure:
    figure = px.bar(
        x=[str(b["value"]) for b in balance],
        y=[b["count"] for b in balance],
        text=[f"{b['share']:.1%}" for b in balance],
        labels={"x": target, "y": "rows"},
    )
    figure.update_xaxes(type="category")
    return _tidy(figure)


def _tidy(figure: go.Figure) -> go.Figure:
    figure.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10}, height=380)
    return figure
