"""ydata-profiling made fit to run as a job: loaded quietly, configured from a plan, stopped at
a time limit, and reporting its progress bars as the job's progress."""

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Any

from services.profiling.report_plan import ReportPlan, ydata_settings

Progress = Callable[[float, str], None]


def load_ydata() -> Any:
    """The ydata_profiling module, imported with its analytics and banner turned off."""
    # Without this, ydata-profiling sends usage data to its makers with every report.
    os.environ["YDATA_PROFILING_NO_ANALYTICS"] = "1"
    os.environ["YDATA_SUPPRESS_BANNER"] = "1"  # no advertisement inside the report
    os.environ.setdefault("MPLBACKEND", "Agg")
    import ydata_profiling

    return ydata_profiling


def ydata_config(plan: ReportPlan, title: str) -> Any:
    """ydata-profiling's settings object for one side of the report."""
    from ydata_profiling.config import Settings as YdataSettings
    from ydata_profiling.utils.paths import get_config

    base = YdataSettings.from_file(get_config("config_minimal.yaml")) if plan.minimal else None
    updates = ydata_settings(plan, title=title, description=plan.explanation)
    return (base or YdataSettings()).update(updates)


class CancellingPool(ThreadPoolExecutor):
    """ydata-profiling's pool for describing columns, except that a stopped job drops the
    queued columns: the stock pool would describe them all first, past the time limit."""

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.shutdown(wait=exc_type is None, cancel_futures=exc_type is not None)


# --- progress ------------------------------------------------------------------------------------

_STEPS = {
    "Describe variable": "Summarising each column",
    "Get dataframe statistics": "Counting missing cells",
    "Calculate": "Computing correlations",
    "scatter": "Drawing scatter plots",
    "Missing diagram": "Charting missing values",
    "Detecting duplicates": "Looking for duplicate rows",
    "Get alerts": "Collecting alerts",
}


class ProgressTracker:
    """Turns ydata-profiling's progress bars into the job's progress. Columns are described
    on worker threads, so they only count; the main thread reports."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.start, self.end, self.title, self.note = 0.0, 1.0, "", ""
        self.main: ProgressBar | None = None
        self.done = 0.0

    def span(self, start: float, end: float, title: str) -> None:
        """The share of the job's progress the next summary fills, and what it is about."""
        self.start, self.end, self.title, self.main, self.done = start, end, title, None, 0.0

    def bar(self, iterable: Any = None, total: int | None = None, **_: Any) -> "ProgressBar":
        """Stands in for `tqdm(...)`."""
        bar = ProgressBar(self, iterable, total)
        if iterable is None and self.main is None:
            self.main = bar  # the one bar that counts every step of the summary
        return bar

    def refresh(self) -> None:
        """Reports the main bar's progress, from the main thread only."""
        if self.main is None or threading.current_thread() is not threading.main_thread():
            return
        # ydata-profiling adds steps as it goes: never report going back.
        self.done = max(self.done, min(1.0, self.main.n / max(1, self.main.total)))
        step = next((s for k, s in _STEPS.items() if self.note.startswith(k)), "Summarising")
        self.progress(self.start + (self.end - self.start) * self.done, f"{self.title}: {step}")


class ProgressBar:
    """Stands in for tqdm inside ydata-profiling."""

    def __init__(self, tracker: ProgressTracker, iterable: Any, total: int | None) -> None:
        self.tracker, self.iterable, self.total, self.n = tracker, iterable, total or 0, 0

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *_: Any) -> None:
        return None

    def __iter__(self) -> Iterator[Any]:
        for item in self.iterable or ():
            yield item
            self.tracker.refresh()

    def update(self, n: int = 1) -> None:
        self.n += n
        self.tracker.refresh()

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        self.tracker.note = text

    def close(self) -> None:
        return None


@contextmanager
def hooked_ydata(tracker: ProgressTracker) -> Iterator[None]:
    """Swaps ydata-profiling's progress bars and column pool for ours, for one report."""
    from ydata_profiling.model import describe
    from ydata_profiling.model.pandas import summary_pandas

    swaps = [
        (describe, "tqdm", tracker.bar),
        (summary_pandas, "tqdm", tracker.bar),
        (summary_pandas, "ThreadPoolExecutor", CancellingPool),
    ]
    with ExitStack() as stack:
        for module, name, value in swaps:
            stack.callback(setattr, module, name, getattr(module, name))
            setattr(module, name, value)
        yield
