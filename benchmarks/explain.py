"""Explanation benchmark (issue 6): time to a global SHAP explanation of a 10k rows x 30 features
table for a tree model, a linear model and a stacked ensemble, with the product's default
bounds. Goal: under 30 s each.

Run `python benchmarks/explain.py [--rows 10000] [--time-limit SECONDS]` from the repo root
(about 2-3 minutes on 2 cores, most of it training). A synthetic table (24 numeric columns,
two with gaps; 6 categorical: four one-hot encoded, two with more than 25 values and so
target-encoded; binary target) goes through PyCaret's setup as a training job sets it up
(services/automl/experiment.set_up, fast preset's 3 folds). Trained: LightGBM and logistic
regression (PyCaret's defaults), and a stack of logistic regression, random forest and
LightGBM (exp.stack_models). Each becomes the pipeline a leaderboard entry stores
(preprocessing + model) and is explained as the insights job does: the holdout rows against
the training rows, through `services.insights.shap_values.explain` with its defaults (at most
1,000 rows, 100 background rows, the default time limit). Printed per model: the explainer,
rows explained (of those sampled), background rows, seconds, whether it meets the goal, the
largest additivity error over the explained rows, and the time of one row: the first with its
explainer built (`RowExplainer`), then the median of 20 more rows on the kept explainer.
Figures also go to benchmarks/out/explain.json; nothing is asserted.
"""

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_aligned

OUT = Path(__file__).resolve().parent / "out"
SEED = 42
GOAL_SECONDS = 30.0
NUMERIC, CATEGORIES = 24, {"plan": 4, "channel": 3, "device": 5, "segment": 12}
MANY = {"city": 60, "product": 40}  # more values than PyCaret one-hot encodes (25)


def table(rows: int, seed: int = SEED) -> pd.DataFrame:
    """Numbers on different scales (two with 5% gaps, one count, one 0/1 flag), categories of
    3 to 60 values, and a binary target with main effects, an interaction and category effects."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            f"num_{i:02d}": rng.normal(0, 1 + i % 5, rows) * (10 if i % 3 == 0 else 1)
            for i in range(NUMERIC - 2)
        }
    )
    frame["visits"] = rng.poisson(3, rows)
    frame["is_member"] = rng.integers(0, 2, rows)
    for name, count in (CATEGORIES | MANY).items():
        frame[name] = rng.choice([f"{name}_{v}" for v in range(count)], rows)
    effects = {
        name: {f"{name}_{v}": rng.normal(0, 0.5) for v in range(count)}
        for name, count in (CATEGORIES | MANY).items()
    }
    logit = (
        0.08 * frame["num_00"]
        - 0.5 * frame["num_01"]
        + 0.3 * frame["num_02"] * (frame["is_member"] - 0.5)
        + 0.2 * frame["visits"]
        + 0.4 * np.tanh(frame["num_04"])
        - 1.0
    )
    for name in effects:
        logit += frame[name].map(effects[name])
    frame["churn"] = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "yes", "no")
    for name in ("num_05", "num_06"):
        frame.loc[rng.choice(rows, rows // 20, replace=False), name] = np.nan
    return frame


def experiment(frame: pd.DataFrame) -> Any:
    """PyCaret's experiment, set up by the product's own code (fast preset: 3 folds)."""
    from services.automl.experiment import set_up
    from services.automl.options import Task, TrainingOptions
    from services.automl.search import Budget
    from services.automl.target import Prepared

    features = [c for c in frame.columns if c != "churn"]
    prepared = Prepared(frame=frame, task=Task.binary, features=features, excluded={})
    options = TrainingOptions(dataset_id=0, target="churn", task=Task.binary, seed=SEED)
    return set_up(prepared, options, Budget(3600.0, time.monotonic()))


def models(exp: Any) -> dict[str, tuple[Any, float]]:
    """The three models as leaderboard pipelines, each with its training seconds."""
    trained: dict[str, tuple[Any, float]] = {}

    def pipeline(model: Any) -> Any:
        full = copy.deepcopy(exp.pipeline)
        full.steps.append(("actual_estimator", model))
        return full

    def create(model_id: str) -> Any:
        quiet = {"verbosity": -1} if model_id == "lightgbm" else {}  # LightGBM's own log: off
        return exp.create_model(model_id, verbose=False, **quiet)

    for name, model_id in (("LightGBM", "lightgbm"), ("Logistic Regression", "lr")):
        started = time.monotonic()
        model = create(model_id)
        trained[name] = (pipeline(model), time.monotonic() - started)
    started = time.monotonic()
    members = [create(m) for m in ("lr", "rf", "lightgbm")]
    stack = exp.stack_models(members, verbose=False)
    trained["Stack of LR, RF, LightGBM"] = (pipeline(stack), time.monotonic() - started)
    return trained


def additivity_error(pipeline: Any, rows: pd.DataFrame, explanation: Any) -> float:
    """The largest |base + sum of SHAP values - model output| over the explained rows."""
    explained = rows.iloc[explanation.row_positions]
    if explanation.output_kind == "probability":
        expected = np.asarray(pipeline.predict_proba(explained))[:, 1]
    else:
        expected = np.asarray(pipeline.decision_function(explained), dtype=float)
    got = [explanation.prediction(explanation.outputs[0], r) for r in range(len(expected))]
    return float(np.abs(np.asarray(got) - expected).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--time-limit", type=float, default=None, help="default: the product's")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kaizen-bench-explain-") as tmp:
        # PyCaret logs to ./logs.log when imported: keep it in the temporary directory.
        os.environ["PYCARET_CUSTOM_LOGGING_PATH"] = str(Path(tmp) / "pycaret.log")
        run(args.rows, args.time_limit)


def one_row_seconds(pipeline: Any, train: Any, holdout: Any) -> tuple[float, float]:
    """Seconds of the first row explained (the explainer built) and the median of 20 more."""
    from services.insights.row_explainer import RowExplainer

    began = time.monotonic()
    explainer = RowExplainer(pipeline=pipeline, background=train, task="binary")
    explainer.explain(holdout.iloc[[0]])
    first = time.monotonic() - began
    times = []
    for position in range(1, 21):
        began = time.monotonic()
        explainer.explain(holdout.iloc[[position]])
        times.append(time.monotonic() - began)
    return first, float(np.median(times))


def run(rows: int, time_limit: float | None) -> None:
    from services.insights.shap_values import (
        DEFAULT_BACKGROUND_ROWS,
        DEFAULT_MAX_ROWS,
        DEFAULT_TIME_LIMIT_SECONDS,
        explain,
    )

    limit = time_limit or DEFAULT_TIME_LIMIT_SECONDS
    frame = table(rows)
    features = frame.shape[1] - 1
    print(
        f"Explanation benchmark: {psutil.cpu_count()} CPUs; {rows:,} rows x {features} features; "
        f"bounds: at most {DEFAULT_MAX_ROWS:,} rows, {DEFAULT_BACKGROUND_ROWS} background rows, "
        f"{limit:g} s"
    )
    started = time.monotonic()
    exp = experiment(frame)
    encoded = exp.pipeline.transform(exp.X_test.head(5)).shape[1]
    print(
        f"setup: {time.monotonic() - started:.1f} s; {exp.X_train.shape[0]:,} training rows, "
        f"{exp.X_test.shape[0]:,} holdout rows, {encoded} encoded columns"
    )
    trained = models(exp)
    figures: list[dict[str, Any]] = []
    for name, (pipeline, train_seconds) in trained.items():
        began = time.monotonic()
        explanation = explain(
            pipeline=pipeline,
            rows=exp.X_test,
            background=exp.X_train,
            task="binary",
            time_limit_seconds=limit,
        )
        seconds = time.monotonic() - began
        first_row, kept_row = one_row_seconds(pipeline, exp.X_train, exp.X_test)
        figures.append(
            {
                "model": name,
                "estimator": explanation.estimator,
                "train_seconds": round(train_seconds, 1),
                "explainer": explanation.explainer_label,
                "rows": explanation.sample_rows,
                "sampled": min(DEFAULT_MAX_ROWS, len(exp.X_test)),
                "background": explanation.background_rows,
                "seconds": round(seconds, 2),
                "goal_met": seconds < GOAL_SECONDS,
                "stopped_early": explanation.stopped_early,
                "additivity_error": additivity_error(pipeline, exp.X_test, explanation),
                "first_row_seconds": round(first_row, 3),
                "kept_row_seconds": round(kept_row, 4),
                "top_features": explanation.mean_abs(explanation.outputs[0])[:5],
                "notes": explanation.notes,
            }
        )
    print()
    header = [
        "model",
        "explainer",
        "rows",
        "background",
        "seconds",
        "< 30 s",
        "max error",
        "1st row s",
        "next rows s",
    ]
    table_rows = [header]
    for f in figures:
        table_rows.append(
            [
                f["model"],
                f["explainer"],
                f"{f['rows']:,}/{f['sampled']:,}",
                str(f["background"]),
                f"{f['seconds']:.2f}",
                "yes" if f["goal_met"] else "NO",
                f"{f['additivity_error']:.1e}",
                f"{f['first_row_seconds']:.3f}",
                f"{f['kept_row_seconds']:.4f}",
            ]
        )
    print_aligned(table_rows)
    for f in figures:
        top = ", ".join(f"{n} {v:.3g}" for n, v in f["top_features"])
        print(f"  {f['model']}: trained in {f['train_seconds']} s; top features: {top}")
        for note in f["notes"]:
            print(f"    note: {note}")
    OUT.mkdir(parents=True, exist_ok=True)
    out_file = OUT / "explain.json"
    out_file.write_text(json.dumps({"rows": rows, "limit": limit, "models": figures}, indent=2))
    print(f"\nfigures: {out_file}")


if __name__ == "__main__":
    main()
