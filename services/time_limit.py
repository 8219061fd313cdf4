"""A hard time limit for a block of code, by SIGALRM: work past it is interrupted, not awaited."""

import signal
from collections.abc import Iterator
from contextlib import contextmanager

DEADLINE_RETRY_SECONDS = 0.5


class TimeLimitReached(Exception):
    """The block under `time_limit` ran `seconds` and was stopped."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"stopped after {seconds:g} seconds")
        self.seconds = seconds


class _Deadline(BaseException):
    """Raised by the alarm (BaseException: library code's `except Exception` must not
    swallow it); becomes TimeLimitReached where the time limit was set."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raises TimeLimitReached once the block has run `seconds` (by SIGALRM: main thread only)."""
    if seconds <= 0:
        raise TimeLimitReached(seconds)  # an itimer of 0 would mean "no limit"
    armed = True

    def on_alarm(_signum: int, _frame: object) -> None:
        if armed:
            # Again soon, in case a bare `except:` (some libraries have them) swallowed this one.
            signal.setitimer(signal.ITIMER_REAL, DEADLINE_RETRY_SECONDS)
            raise _Deadline

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        try:
            yield
        finally:
            armed = False  # from here on a late alarm does nothing
    except _Deadline:
        raise TimeLimitReached(seconds) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
