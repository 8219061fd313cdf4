"""Ingest benchmark: Kaizen's CSV and Parquet ingest against plain pandas.read_csv.

Run `python benchmarks/ingest.py [--sizes 100k,1M,5M] [--repeat 3] [--json]`. Each size is
generated once (20 mixed columns) into benchmarks/out/ as CSV and Parquet; every case then runs
in a fresh subprocess so its peak RSS is its own (see _peak_mb). Goals: Kaizen CSV ingest at
least 3x pandas' rows/s, and peak RSS under 3x the size of the Parquet file it writes.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from common import add_file, kaizen_home, print_aligned

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
CHUNK_ROWS = 250_000
SPEED_GOAL, RSS_GOAL = 3.0, 3.0
CASES = ["pandas", "kaizen-csv", "kaizen-parquet"]
SERVICE_CASE = "add_dataset-csv"
MB = 1024 * 1024
REGIONS = ["North", "South", "East", "West", "Central"]
PLANS = ["free", "basic", "pro", "enterprise"]
CHANNELS = ["web", "mobile", "store", "phone", "partner", "email", "social", "referral"]
COUNTRIES = [f"Country {c}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"]
FIRST = ["anna", "ben", "carla", "deniz", "emil", "fatima", "goran", "hana", "ivan", "jun"]
LAST = ["smith", "garcia", "muller", "rossi", "novak", "kim", "silva", "khan", "berg", "tanaka"]
DOMAINS = ["example.com", "mail.test", "corp.example", "shop.test"]
_TEXT = (
    "delivery late great price support slow friendly broken refund quality easy app login "
    "package missing fast helpful cancel upgrade invoice wrong again thanks excellent poor "
    "battery screen size colour return exchange warranty store online staff wait hours"
)
WORDS = _TEXT.split()


def parse_size(text: str) -> int:
    """'100k' -> 100_000, '5M' -> 5_000_000."""
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def _pick(rng: np.random.Generator, values: list[str], n: int) -> pa.Array:
    return pa.array(values).take(pa.array(rng.integers(0, len(values), n)))


def _missing(rng: np.random.Generator, values: np.ndarray, share: float) -> pa.Array:
    return pa.array(values, mask=rng.random(len(values)) < share)


def _comment(rng: np.random.Generator, n: int) -> pa.Array:
    """Three to eight words, a few comments missing."""
    counts = rng.integers(3, 9, n)
    words = [pa.array(_pick(rng, WORDS, n), mask=counts <= i).cast(pa.string()) for i in range(8)]
    text = pc.binary_join_element_wise(*words, " ", null_handling="skip")
    return pc.if_else(pa.array(rng.random(n) < 0.03), None, text)


def _chunk(rng: np.random.Generator, start: int, n: int) -> pa.Table:
    """n generated rows: 5 int, 5 float, 4 category, 4 text, a date and a boolean column."""
    ids = np.arange(start, start + n)
    id_text = pa.array(ids).cast(pa.string())
    days = rng.integers(0, 3650, n).astype("timedelta64[D]")
    email = [_pick(rng, FIRST, n), ".", _pick(rng, LAST, n), id_text, "@", _pick(rng, DOMAINS, n)]
    return pa.table(
        {
            "customer_id": ids,
            "age": _missing(rng, rng.integers(18, 90, n), 0.05),
            "tenure_months": rng.integers(0, 240, n),
            "visits": _missing(rng, rng.poisson(12, n), 0.02),
            "support_calls": rng.poisson(1.5, n),
            "monthly_spend": np.round(rng.gamma(2.0, 40.0, n), 2),
            "discount_rate": np.round(rng.random(n) * 0.3, 4),
            "satisfaction": _missing(rng, np.round(rng.normal(7, 1.5, n), 1), 0.1),
            "latitude": np.round(rng.uniform(-60, 70, n), 6),
            "longitude": np.round(rng.uniform(-180, 180, n), 6),
            "region": _pick(rng, REGIONS, n),
            "plan": _pick(rng, PLANS, n),
            "channel": _pick(rng, CHANNELS, n),
            "country": _pick(rng, COUNTRIES, n),
            "name": pc.binary_join_element_wise("Customer", id_text, " "),
            "email": pc.binary_join_element_wise(*email, ""),
            "comment": _comment(rng, n),
            "sku": pc.binary_join_element_wise(
                "SKU", pa.array(rng.integers(0, 10**6, n)).cast(pa.string()), "-"
            ),
            "signup_date": pa.array(np.datetime64("2015-01-01") + days).cast(pa.date32()),
            "churned": rng.random(n) < 0.2,
        }
    )


def generate(rows: int) -> tuple[Path, Path]:
    """The CSV and Parquet files of `rows` generated rows, written once and then reused."""
    csv_path, pq_path = OUT / f"data-{rows}.csv", OUT / f"data-{rows}.parquet"
    if csv_path.exists() and pq_path.exists():
        return csv_path, pq_path
    OUT.mkdir(parents=True, exist_ok=True)
    part_csv, part_pq = csv_path.with_suffix(".csv.part"), pq_path.with_suffix(".parquet.part")
    rng = np.random.default_rng(rows)
    csv_writer = pq_writer = None
    for start in range(0, rows, CHUNK_ROWS):
        table = _chunk(rng, start, min(CHUNK_ROWS, rows - start))
        if csv_writer is None:
            options = pacsv.WriteOptions(quoting_style="none")  # minimal quoting, like most tools
            csv_writer = pacsv.CSVWriter(part_csv, table.schema, write_options=options)
            pq_writer = pq.ParquetWriter(part_pq, table.schema)
        csv_writer.write_table(table)
        pq_writer.write_table(table)
    csv_writer.close()
    pq_writer.close()
    part_csv.replace(csv_path)
    part_pq.replace(pq_path)
    return csv_path, pq_path


def _peak_mb() -> float:
    """This process's peak RSS. On Linux ru_maxrss survives fork+exec, so a child would report
    the parent's peak (the generator's); VmHWM belongs to the new process image alone."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


Run = Callable[[], tuple[int, int]]  # returns rows read and bytes of Parquet written


def _pandas(path: Path, work: Path) -> Run:
    import pandas as pd

    return lambda: (len(pd.read_csv(path)), 0)


def _kaizen(path: Path, work: Path) -> Run:
    from services.ingest import Limits, read_table_file

    limits = Limits(max_cells=10**12, max_xlsx_uncompressed_bytes=10**12)
    dest = work / "out.parquet"

    def run() -> tuple[int, int]:
        report = read_table_file(
            path, dest, filename=path.name, sheet=None, rename=False, limits=limits
        )
        return report.rows, dest.stat().st_size

    return run


def _service(path: Path, work: Path) -> Run:
    """services.datasets.add_dataset: hashes, ingests and describes the file, then records it."""
    from sqlmodel import Session

    settings, engine = kaizen_home(work)

    def run() -> tuple[int, int]:
        with Session(engine, expire_on_commit=False) as session:
            added = add_file(session, settings, path)
        stored = next(settings.datasets_dir.glob("*.parquet"))
        return added.dataset.rows, stored.stat().st_size

    return run


def child(case: str, path: Path, work: Path) -> dict[str, float]:
    """Runs one case in this (fresh) process; imports and setup are not measured."""
    sys.path.insert(0, str(ROOT))
    prepare = {"pandas": _pandas, SERVICE_CASE: _service}.get(case, _kaizen)
    run = prepare(path, work)
    base = _peak_mb()
    start, cpu = time.perf_counter(), time.process_time()
    rows, written = run()
    seconds = time.perf_counter() - start
    return {
        "rows": rows,
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,  # all threads; steadier than wall on a busy box
        "peak_mb": _peak_mb(),
        "base_mb": base,
        "parquet_mb": written / MB,
    }


def run_case(case: str, path: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=OUT) as work:
        command = [sys.executable, __file__, "--child", case, str(path), work]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{case} on {path.name} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def measure(label: str, rows: int, with_service: bool, repeat: int) -> list[dict[str, Any]]:
    """Every case at one size; of `repeat` runs of a case, the fastest is kept."""
    csv_path, pq_path = generate(rows)
    cases = CASES + [SERVICE_CASE] * with_service
    results = []
    for case in cases:
        path = pq_path if case == "kaizen-parquet" else csv_path
        figures = min((run_case(case, path) for _ in range(repeat)), key=lambda f: f["seconds"])
        assert figures["rows"] == rows, (case, figures["rows"])
        figures["rows_per_s"] = rows / figures["seconds"]
        results.append({"size": label, "case": case, **figures})
    pandas_speed = results[0]["rows_per_s"]
    for result in results:
        result["csv_mb"] = csv_path.stat().st_size / MB
        result["x_pandas"] = result["rows_per_s"] / pandas_speed
        written = result["parquet_mb"]
        result["rss_x_parquet"] = result["peak_mb"] / written if written else None
        grown = result["peak_mb"] - result["base_mb"]
        result["grown_x_parquet"] = grown / written if written else None
        result["goal"] = _goal(result)
    return results


def _goal(result: dict[str, Any]) -> str:
    if result["case"] == "pandas":
        return "baseline"
    rss_ok = result["rss_x_parquet"] < RSS_GOAL
    verdict = [f"RSS {'ok' if rss_ok else 'MISSED'}"]
    if result["case"] in ("kaizen-csv", SERVICE_CASE):
        verdict.insert(0, f"speed {'ok' if result['x_pandas'] >= SPEED_GOAL else 'MISSED'}")
    return ", ".join(verdict)


COLUMNS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("size", lambda r: r["size"]),
    ("case", lambda r: r["case"]),
    ("seconds", lambda r: f"{r['seconds']:.2f}"),
    ("CPU s", lambda r: f"{r['cpu_seconds']:.2f}"),
    ("rows/s", lambda r: f"{r['rows_per_s']:,.0f}"),
    ("peak RSS MB", lambda r: f"{r['peak_mb']:.0f}"),
    ("import MB", lambda r: f"{r['base_mb']:.0f}"),
    ("Parquet MB", lambda r: f"{r['parquet_mb']:.1f}" if r["parquet_mb"] else "-"),
    ("x pandas", lambda r: f"{r['x_pandas']:.2f}x"),
    ("RSS/Parquet", lambda r: "-" if r["rss_x_parquet"] is None else f"{r['rss_x_parquet']:.1f}x"),
    ("(RSS-import)/Parquet", lambda r: f"{r['grown_x_parquet']:.1f}x" if r["parquet_mb"] else "-"),
    ("goals", lambda r: r["goal"]),
]


def print_table(results: list[dict[str, Any]]) -> None:
    rows = [[name for name, _ in COLUMNS]]
    rows += [[cell(result) for _, cell in COLUMNS] for result in results]
    print_aligned(rows)
    print(
        f"\nGoals: kaizen-csv >= {SPEED_GOAL:g}x pandas rows/s; peak RSS < {RSS_GOAL:g}x the "
        "Parquet file written.\npandas only parses the CSV into memory; it does not write "
        "Parquet.\n'import MB' is the process's RSS after imports and setup, before the case ran; "
        "RSS-import is what the case itself added.\n"
        "add_dataset-csv also hashes the file, describes the columns and records the dataset."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1M,5M", help="comma-separated row counts")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case, fastest kept")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, path, work = args.child
        print(json.dumps(child(case, Path(path), Path(work))))
        return
    labels = args.sizes.split(",")
    service_at = "1M" if "1M" in labels else labels[0]  # the full service path, at one size
    results = []
    for label in labels:
        rows = parse_size(label)
        _, pq_path = generate(rows)
        csv_mb = (OUT / f"data-{rows}.csv").stat().st_size / MB
        print(
            f"{label}: {rows:,} rows x 20 columns; CSV {csv_mb:.0f} MB, "
            f"source Parquet {pq_path.stat().st_size / MB:.0f} MB",
            file=sys.stderr if args.json else sys.stdout,
            flush=True,
        )
        results += measure(label, rows, label == service_at, args.repeat)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)


if __name__ == "__main__":
    main()
