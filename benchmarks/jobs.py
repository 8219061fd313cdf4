"""Jobs benchmark: how long an empty job takes to start, and what one heartbeat write costs.

Run `python benchmarks/jobs.py [--runs 10] [--writes 500]` from the repo root. It prints
(a) for an empty job on the local executor: submit() itself, submit -> state running, submit ->
the job function started, and submit -> succeeded (median and p90); (b) the same on Dask with a
LocalCluster; (c) the cost of one progress write and one heartbeat on SQLite WAL, alone and with
two writers at once. Goal: under 1.5 s from submit to running on the local executor.
A runner's start is mostly imports: with no bytecode cache (a venv installed without compiling
it, and PYTHONDONTWRITEBYTECODE set) every runner compiles SQLAlchemy anew, about 1 s more.
"""

import argparse
import importlib
import logging
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from sqlmodel import Session

from services import executors, jobs
from services.config import Settings
from services.db import dispose_engines, get_engine, migrate
from services.job_runner import JobContext, _Watchdog
from services.models import Job, JobPublic, JobState, utcnow

GOAL_SECONDS = 1.5
RUNNING, STARTED = "submit -> state running", "submit -> function started"
STAGES = ["submit() returns", RUNNING, STARTED, "submit -> succeeded"]
Timings = dict[str, list[float]]


def empty(ctx: JobContext) -> dict[str, Any]:
    """The empty job: notes when it started, reports it, and ends."""
    started = time.time()
    ctx.progress(0.0, "started")
    return {"started": started}


def _wait(session: Session, job_id: int, timeout: float = 60.0) -> JobPublic:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = jobs.load_job(session=session, job_id=job_id)
        if job.state.finished:
            return job
        time.sleep(0.005)
    raise SystemExit(f"job {job_id} did not finish in {timeout}s:\n{jobs.read_log(job)}")


def _wait_runner_gone(session: Session, job_id: int) -> None:
    """The next run must not share the CPUs with this one's exiting runner."""
    session.expire_all()
    pid = session.get(Job, job_id).pid  # type: ignore[union-attr]
    deadline = time.monotonic() + 30
    while pid and jobs._alive(pid) and time.monotonic() < deadline:
        time.sleep(0.005)


def start_latency(settings: Settings, runs: int) -> Timings:
    """Submits the empty job `runs` times (after one warm-up run), one at a time."""
    engine = get_engine(settings)
    migrate(engine)
    timings: Timings = {name: [] for name in STAGES}
    # As `benchmarks.jobs:empty`, not `__main__:empty`: the runner imports it by that name.
    run_empty = importlib.import_module("benchmarks.jobs").empty
    with Session(engine, expire_on_commit=False) as session:
        for run in range(runs + 1):
            t0 = time.time()
            job = jobs.submit(
                session=session, settings=settings, kind="b", run=run_empty, params={}, owner="b"
            )
            returned = time.time()
            done = _wait(session, job.id)
            _wait_runner_gone(session, job.id)
            if done.state != JobState.succeeded or done.started_at is None:
                raise SystemExit(f"job failed: {done.error}\n{jobs.read_log(done)}")
            if run == 0:
                continue  # warm-up: bytecode and page caches
            assert done.result is not None and done.finished_at is not None
            timings[STAGES[0]].append(returned - t0)
            timings[RUNNING].append(done.started_at.timestamp() - t0)
            timings[STARTED].append(done.result["started"] - t0)
            timings[STAGES[3]].append(done.finished_at.timestamp() - t0)
    dispose_engines()
    return timings


def dask_latency(home: Path, runs: int) -> Timings:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.WARNING,
    ) as cluster:
        settings = Settings(home=home, executor="dask", dask_address=cluster.scheduler_address)
        try:
            return start_latency(settings, runs)
        finally:
            executors.close()


def _writer(home: str, writes: int, barrier: Any, out: Any) -> None:
    """Times `writes` progress writes, then as many heartbeats, on one running job's row."""
    settings = Settings(home=Path(home))
    engine = get_engine(settings)
    with Session(engine) as session:
        job = Job(kind="bench", owner="b", target="x:y", state=JobState.running)
        job.heartbeat_at = utcnow()
        session.add(job)
        session.commit()
        job_id = job.id
    assert job_id is not None
    ctx = JobContext(job_id, settings, engine)
    watchdog = _Watchdog(ctx)
    if barrier is not None:
        barrier.wait()  # both writers start together
    result: Timings = {"progress write": [], "heartbeat": []}
    calls: dict[str, Callable[[int], None]] = {
        "progress write": lambda i: ctx._update(progress=i / writes, step=f"{i}"),
        "heartbeat": lambda _i: watchdog._beat(),
    }
    for name, call in calls.items():
        for i in range(writes // 10):
            call(i)  # warm-up: connection pool, WAL file growth
        for i in range(writes):
            t0 = time.perf_counter()
            call(i)
            result[name].append(time.perf_counter() - t0)
    out.put(result)


def write_cost(home: Path, writes: int) -> dict[str, Timings]:
    engine = get_engine(Settings(home=home))
    migrate(engine)
    dispose_engines()
    spawn = multiprocessing.get_context("spawn")  # a fresh engine in each writer
    costs: dict[str, Timings] = {}
    for writers in (1, 2):
        out, barrier = spawn.Queue(), spawn.Barrier(writers) if writers > 1 else None
        procs = [
            spawn.Process(target=_writer, args=(str(home), writes, barrier, out))
            for _ in range(writers)
        ]
        for proc in procs:
            proc.start()
        merged: Timings = {"progress write": [], "heartbeat": []}
        for _ in procs:
            for name, values in out.get(timeout=300).items():
                merged[name].extend(values)
        for proc in procs:
            proc.join()
        costs[f"{writers} writer{'s' if writers > 1 else ''}"] = merged
    return costs


def _stats(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), statistics.quantiles(values, n=10)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--writes", type=int, default=500)
    args = parser.parse_args()
    print(f"jobs benchmark: {args.runs} runs of an empty job, {psutil.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="kaizen-bench-") as tmp:
        latency = {"local": start_latency(Settings(home=Path(tmp, "local")), args.runs)}
        latency["dask"] = dask_latency(Path(tmp, "dask"), args.runs)
        costs = write_cost(Path(tmp, "writes"), args.writes)
    print(f"\n{'executor':<9} {'from submit to':<28} {'median':>8} {'p90':>8}")
    for executor, timings in latency.items():
        for name, values in timings.items():
            median, p90 = _stats(values)
            print(f"{executor:<9} {name:<28} {median:>7.3f}s {p90:>7.3f}s")
    print(f"\n{'SQLite WAL write':<28} {'writers':<10} {'median':>9} {'p90':>9}")
    for writers, timings in costs.items():
        for name, values in timings.items():
            median, p90 = _stats(values)
            print(f"{name:<28} {writers:<10} {median * 1e6:>7.0f}µs {p90 * 1e6:>7.0f}µs")
    running, started = (statistics.median(latency["local"][name]) for name in (RUNNING, STARTED))
    verdict = "met" if started < GOAL_SECONDS else "NOT met"  # the stricter of the two
    print(
        f"\ngoal: under {GOAL_SECONDS} s from submit to running (local): {verdict} "
        f"(state running after {running:.3f} s, the job function starts after {started:.3f} s)"
    )


if __name__ == "__main__":
    main()
