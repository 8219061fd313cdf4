"""The prediction log (KAIZEN_SERVING_LOG_PREDICTIONS, off by default): one JSON line per
request in `$KAIZEN_HOME/predictions/predictions-<UTC date>.jsonl`, a new file each day, for
later monitoring. A file rather than a table keeps the database off the hot path."""

import hashlib
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from services.serving.schema import ModelSchema


class PredictionLog:
    """Appends request records to the day's file (one writer per server process)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.lock = threading.Lock()
        self.day: date | None = None
        self.handle: IO[bytes] | None = None

    def write(
        self,
        schema: ModelSchema,
        rows: list[dict[str, Any]],
        document: dict[str, Any],
        latency_ms: float,
        key_id: int | None,
    ) -> None:
        """One line: when, which model and version, the inputs' hash, the outputs, how long
        it took and which key asked."""
        now = datetime.now(UTC)
        record = {
            "time": now.isoformat(),
            "model": schema.name,
            "version": schema.version,
            "rows": len(rows),
            "inputs_sha256": inputs_digest(schema, rows),
            "predictions": document["predictions"],
            "probabilities": document["probabilities"],
            "latency_ms": round(latency_ms, 3),
            "key_id": key_id,
        }
        line = orjson.dumps(record, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n"
        with self.lock:
            self._file(now.date()).write(line)
            self._file(now.date()).flush()  # a crash loses no answered request

    def close(self) -> None:
        with self.lock:
            if self.handle is not None:
                self.handle.close()
                self.handle, self.day = None, None

    def _file(self, day: date) -> IO[bytes]:
        if self.handle is None or day != self.day:
            if self.handle is not None:
                self.handle.close()
            self.directory.mkdir(parents=True, exist_ok=True)
            self.handle = (self.directory / f"predictions-{day.isoformat()}.jsonl").open("ab")
            self.day = day
        return self.handle


def inputs_digest(schema: ModelSchema, rows: list[dict[str, Any]]) -> str:
    """SHA-256 of the rows' canonical JSON: column names sorted, no spaces, missing as null,
    so the same rows hash alike however the client ordered or spaced them."""
    names = [c.name for c in schema.columns]
    plain = [{name: row.get(name) for name in names} for row in rows]
    canonical = orjson.dumps(plain, option=orjson.OPT_SORT_KEYS | orjson.OPT_NAIVE_UTC)
    return hashlib.sha256(canonical).hexdigest()
