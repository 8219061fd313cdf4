"""The full report's plan: ydata-profiling settings chosen for speed by the table's size, and
the table read and made safe to show the way the plan says."""

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel

# Measured on 2 cores: ydata-profiling's minimal mode takes ~20 s per 500k rows x 30 columns
# and ~1.5 GB; drawing each column's charts takes ~0.15 s whatever the rows.
FULL_MAX_CELLS = 2_000_000  # full (non-minimal) mode up to e.g. 100k rows x 20 columns
FULL_MAX_COLUMNS = 40
MAX_COLUMNS = 250  # 250 columns of charts take ~40 s; the instant summary covers the rest
SAMPLE_CELLS = 15_000_000  # above this the rows are sampled: 500k rows of 30 columns
MIN_SAMPLE_ROWS = 10_000
SAMPLE_SEED = 0
INTERACTION_MAX_COLUMNS = 6  # scatter plots grow with the square of the numeric columns
AUTO_CORRELATION_MAX_COLUMNS = 50
PEARSON_MAX_COLUMNS = 100
MISSING_BAR_MAX_COLUMNS = 100
MAX_TEXT_CHARS = 1_000
MAX_WORD_CHARS = 50  # longer "words" (URLs, hashes) break ydata-profiling's word cloud
JSON_TOP_VALUES = 100  # per list of values in the JSON download (the HTML needs no more)
DEFAULT_TIME_LIMIT_SECONDS = 600.0
BATCH_ROWS = 64 * 1024
DUPLICATES_KEY = "# duplicates"
# ydata-profiling puts column names into its HTML unescaped: these characters from the data
# are shown as look-alikes, so no name or value can open a tag or leave an attribute.
LOOKALIKES = {"<": "\uff1c", ">": "\uff1e", '"': "\uff02", "'": "\u2019"}
_SAFE = str.maketrans(LOOKALIKES)
ALL_CORRELATIONS = ("auto", "pearson", "spearman", "kendall", "phi_k", "cramers")
MISSING_DIAGRAMS = ("bar", "matrix", "heatmap")
CORRELATION_NAMES = {
    "auto": "auto (ydata-profiling's pick for each pair of columns)",
    "pearson": "Pearson",
    "spearman": "Spearman",
    "cramers": "Cramér's V",
    "kendall": "Kendall",
    "phi_k": "Phik",
}


class ReportPlan(BaseModel):
    """How a full report is computed, and why, in words shown next to it."""

    rows: int
    columns: int
    minimal: bool
    sample_rows: int | None  # None: every row
    sample_seed: int | None
    profiled_columns: int  # the first this many columns are in the report
    correlations: list[str]
    interactions: bool
    missing_diagrams: list[str]
    text_details: bool  # characters and words of text columns
    max_text_chars: int
    time_limit_seconds: float
    explanation: str

    def cache_key(self, *parts: str) -> str:
        """Names the report this plan makes; the time limit and wording do not change it."""
        content = self.model_dump(exclude={"time_limit_seconds", "explanation"})
        text = json.dumps([content, *parts], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def plan_report(
    rows: int,
    columns: int,
    *,
    time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
    minimal: bool | None = None,
) -> ReportPlan:
    """The report settings for a table of this size (`minimal` forces the mode either way)."""
    profiled = min(columns, MAX_COLUMNS)
    budget = max(MIN_SAMPLE_ROWS, SAMPLE_CELLS // max(1, profiled) // 1000 * 1000)
    sample = budget if rows > budget else None
    cells = (sample or rows) * profiled
    if minimal is None:
        minimal = cells > FULL_MAX_CELLS or profiled > FULL_MAX_COLUMNS
    plan = ReportPlan(
        rows=rows,
        columns=columns,
        minimal=minimal,
        sample_rows=sample,
        sample_seed=SAMPLE_SEED if sample else None,
        profiled_columns=profiled,
        correlations=_correlations(minimal, profiled),
        interactions=not minimal and profiled <= INTERACTION_MAX_COLUMNS,
        missing_diagrams=_missing_diagrams(minimal, profiled),
        text_details=not minimal,
        max_text_chars=MAX_TEXT_CHARS,
        time_limit_seconds=time_limit_seconds,
        explanation="",
    )
    plan.explanation = _explain(plan)
    return plan


def _correlations(minimal: bool, columns: int) -> list[str]:
    # phi_k and kendall are left out: each takes minutes on large tables.
    if not minimal:
        return ["auto", "pearson", "spearman", "cramers"]
    if columns <= AUTO_CORRELATION_MAX_COLUMNS:
        return ["auto"]
    return ["pearson"] if columns <= PEARSON_MAX_COLUMNS else []


def _missing_diagrams(minimal: bool, columns: int) -> list[str]:
    if not minimal:
        return list(MISSING_DIAGRAMS)
    return ["bar"] if columns <= MISSING_BAR_MAX_COLUMNS else []


def _explain(plan: ReportPlan) -> str:
    """One paragraph that states every choice of the plan."""
    rows = (
        f"{plan.sample_rows:,} of the {plan.rows:,} rows, picked at random (seed "
        f"{plan.sample_seed}), to keep the report fast"
        if plan.sample_rows
        else f"all {plan.rows:,} rows"
    )
    columns = (
        f"the first {plan.profiled_columns:,} of the {plan.columns:,} columns (the instant "
        "summary covers every column)"
        if plan.profiled_columns < plan.columns
        else f"all {plan.columns:,} columns"
    )
    mode = (
        "It uses ydata-profiling's fast minimal mode: each column gets its statistics, "
        "histogram and most common values, without the characters and words of text."
        if plan.minimal
        else "It uses ydata-profiling's full mode, with the characters and words of text."
    )
    names = [CORRELATION_NAMES[name] for name in plan.correlations]
    correlations = ", ".join(names) or "none (too many columns)"
    diagrams = ", ".join(plan.missing_diagrams) or "none (too many columns)"
    scatter = "included" if plan.interactions else "left out"
    minutes = in_words(plan.time_limit_seconds)
    return (
        f"This report profiles {rows}, and {columns}. {mode} Correlations: {correlations}. "
        f"Missing-value charts: {diagrams}. Scatter plots of column pairs: {scatter}. "
        f"Text longer than {plan.max_text_chars:,} characters is cut to its first "
        f"{plan.max_text_chars:,}. Angle brackets and quotes in names and text are shown as "
        f"look-alikes ({' '.join(LOOKALIKES.values())}), so that nothing in the data can act "
        f"as part of the web page. The report stops if it takes longer than {minutes}."
    )


def in_words(seconds: float) -> str:
    """A time limit in words: "10 minutes", "30 seconds"."""
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} second{'' if seconds == 1 else 's'}"


def ydata_settings(plan: ReportPlan, *, title: str, description: str) -> dict[str, Any]:
    """The ydata-profiling settings the plan stands for, as updates to its base settings."""
    details = {"characters": plan.text_details, "words": plan.text_details}
    return {
        "title": safe_text(title),
        "dataset": {"description": safe_text(description)},
        "progress_bar": False,  # progress reaches the job through hooks instead
        "pool_size": min(4, os.cpu_count() or 1),
        "correlations": {
            name: {"calculate": name in plan.correlations} for name in ALL_CORRELATIONS
        },
        "interactions": {"continuous": plan.interactions, "targets": []},
        "missing_diagrams": {name: name in plan.missing_diagrams for name in MISSING_DIAGRAMS},
        "vars": {"text": details, "cat": details},
        "samples": {"head": 5, "tail": 5, "random": 0},
        "duplicates": {"head": 5, "key": DUPLICATES_KEY},
        # One self-contained file: no CDN, so it works offline and in a sandboxed iframe.
        "html": {"use_local_assets": True, "inline": True, "minify_html": True},
    }


def read_table(path: Path, plan: ReportPlan) -> pa.Table:
    """The rows and columns the plan profiles, with names and text made safe to show."""
    source = pq.ParquetFile(path)
    names = source.schema_arrow.names[: plan.profiled_columns]
    total = source.metadata.num_rows
    if plan.sample_rows is None or total <= plan.sample_rows:
        table = source.read(columns=names)
    else:
        rng = np.random.default_rng(plan.sample_seed)
        picks = np.sort(rng.choice(total, plan.sample_rows, replace=False))
        table = _take_rows(source, names, picks)
    return make_safe(table, max_text_chars=plan.max_text_chars)


def _take_rows(source: pq.ParquetFile, names: list[str], picks: np.ndarray) -> pa.Table:
    """The picked rows, read batch by batch so only the sample is ever held in memory."""
    chosen, offset = [], 0
    for batch in source.iter_batches(batch_size=BATCH_ROWS, columns=names):
        low, high = np.searchsorted(picks, [offset, offset + batch.num_rows])
        if high > low:
            chosen.append(batch.take(pa.array(picks[low:high] - offset)))
        offset += batch.num_rows
    return pa.Table.from_batches(chosen)  # picks is never empty: one batch at least


def safe_text(text: str) -> str:
    """Text from the data with the characters that make HTML replaced by look-alikes."""
    return text.translate(_SAFE)


def safe_names(names: list[str]) -> list[str]:
    """Column names safe to show, still distinct, and none taken by ydata-profiling itself."""
    taken = {DUPLICATES_KEY}
    result = []
    for name in names:
        shown, suffix = safe_text(name), 2
        while shown in taken:  # "a<b" next to "a\uff1cb", say
            shown, suffix = f"{safe_text(name)} ({suffix})", suffix + 1
        taken.add(shown)
        result.append(shown)
    return result


def make_safe(table: pa.Table, *, max_text_chars: int) -> pa.Table:
    """The table with safe names, text cut to `max_text_chars` and made safe, and types
    ydata-profiling cannot describe (lists, bytes, times of day...) turned into text."""
    columns = [_safe_column(column, max_text_chars) for column in table.columns]
    return pa.table(columns, names=safe_names(table.column_names))


def _safe_column(column: pa.ChunkedArray, max_text_chars: int) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_decimal(kind):
        return column.cast(pa.float64())
    if _plain(kind):
        return column
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        # Nested values, bytes, durations, times of day: shown as the text they print as.
        column = pa.chunked_array(
            [pa.array([None if v is None else str(v) for v in column.to_pylist()], pa.string())]
        )
    column = pc.utf8_slice_codeunits(column, 0, max_text_chars)
    for char, lookalike in LOOKALIKES.items():
        column = pc.replace_substring(column, char, lookalike)
    return column


def _plain(kind: pa.DataType) -> bool:
    """Types ydata-profiling describes as they are."""
    t = pa.types
    checks = (t.is_integer, t.is_floating, t.is_boolean, t.is_timestamp, t.is_date, t.is_null)
    return any(check(kind) for check in checks)


def drop_long_words(description: Any) -> None:
    """Leaves out of word counts the "words" (URLs, hashes) that break the word cloud."""
    for summary in description.variables.values():
        words = summary.get("word_counts")
        if isinstance(words, pd.Series):
            kept = words[words.index.astype(str).str.len() <= MAX_WORD_CHARS]
            if kept.empty:
                del summary["word_counts"]
            else:
                summary["word_counts"] = kept


def trim_for_json(value: Any, key: str = "") -> Any:
    """Lists of values cut to the most frequent (those sorted by value: to the smallest and
    largest), so the JSON of a million distinct IDs is not gigabytes. Edits dicts in place."""
    if isinstance(value, dict):
        for name, item in value.items():
            value[name] = trim_for_json(item, name)
        return value
    if isinstance(value, list):  # a comparison holds one value per side
        return [trim_for_json(item, key) for item in value]
    if not isinstance(value, pd.Series) or len(value) <= JSON_TOP_VALUES:
        return value
    if key.endswith("index_sorted"):
        half = JSON_TOP_VALUES // 2
        return pd.concat([value.head(half), value.tail(half)])
    return value.head(JSON_TOP_VALUES)
