"""The REST API of published models (`kaizen serve`): typed schemas, the ASGI app, the models
it holds in memory and where they come from, and their Gradio demos behind share links. Its own
settings are read from KAIZEN_SERVING_*."""

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServingSettings(BaseSettings):
    """What `kaizen serve` reads from its environment (KAIZEN_SERVING_*)."""

    model_config = SettingsConfigDict(env_prefix="KAIZEN_SERVING_", env_file=".env", extra="ignore")

    max_rows: int = Field(default=10_000, ge=1)  # rows in one predict request, at most
    max_explain_rows: int = Field(default=100, ge=1)  # rows ?explain=true answers, at most
    # A column the model does not take: refused with 422, or dropped before predicting.
    unknown_columns: Literal["reject", "ignore"] = "reject"
    log_predictions: bool = False  # one JSON line per request under $KAIZEN_HOME/predictions
    # A verified key or share link is trusted this long without asking the database again (the
    # hot path); a revoked key or link stops working after at most this long (a link at once
    # for new opens, a key at once on a reload).
    key_cache_seconds: float = Field(default=10.0, ge=0)
    # Demos: requests (predictions) per minute through one share link, and how long a browser
    # that opened a link stays let in (at most until the link expires).
    demo_requests_per_minute: int = Field(default=60, ge=1)
    demo_session_hours: float = Field(default=12.0, gt=0)
    demo_max_file_size: str = "1mb"  # the demos take no files; Gradio's upload route is bounded
