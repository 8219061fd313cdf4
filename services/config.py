"""Application settings: one pydantic-settings object, read from KAIZEN_* variables."""

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_ALIAS = re.compile(r"[A-Za-z0-9_-]{1,100}")
_RESERVED_ALIAS = re.compile(r"latest|[vV]\d+", re.IGNORECASE)


class Settings(BaseSettings):
    """Everything Kaizen Studio reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="KAIZEN_", env_file=".env", extra="ignore")

    home: Path = Path("data")
    database_url: str | None = None
    max_upload_mb: int = Field(default=500, ge=1)
    max_cells: int = Field(default=200_000_000, ge=1)
    # Excel files are zip archives; this bounds what one may expand to (zip bombs).
    max_xlsx_uncompressed_mb: int = Field(default=2_000, ge=1)
    preview_page_size: int = Field(default=50, ge=1, le=1_000)
    executor: Literal["local", "dask"] = "local"
    dask_address: str | None = None  # e.g. tcp://scheduler:8786, for executor "dask"
    max_parallel_jobs: int = Field(default=2, ge=1)
    heartbeat_seconds: float = Field(default=1.0, gt=0)
    # A running job silent for this long is marked failed (its process or machine died).
    heartbeat_timeout_seconds: float = Field(default=30.0, gt=0)
    # A full profiling report running longer than this is stopped (a job may ask for less).
    profile_time_limit_seconds: float = Field(default=600.0, gt=0)
    # An insights job (metrics, SHAP, partial dependence of one model) fits in this many seconds.
    explain_time_limit_seconds: float = Field(default=120.0, gt=0)
    # Local accounts: this many wrong passwords in a row lock an account for a while.
    max_failed_sign_ins: int = Field(default=5, ge=1)
    lockout_minutes: float = Field(default=15.0, gt=0)
    min_password_length: int = Field(default=12, ge=8)
    # OIDC: the claim that carries groups, and which group gives which role, e.g.
    # KAIZEN_OIDC_ROLES='{"kaizen-admins": "admin", "kaizen-analysts": "analyst"}'.
    oidc_role_claim: str = "groups"
    oidc_roles: dict[str, Literal["viewer", "analyst", "admin"]] = Field(default_factory=dict)
    # Streamlit keeps the provider's claims in its cookie for 30 days: ask the provider again
    # after this long, so group changes there take effect.
    oidc_max_age_hours: float = Field(default=12.0, gt=0)
    # New users join this project (empty: none; an admin adds them to projects).
    new_user_project: str = "default"
    # MLflow tracking and registry; None: a SQLite store and artifacts under `home`
    # (MLflow's own MLFLOW_TRACKING_URI, when set, wins: it is how MLflow users point tools).
    mlflow_tracking_uri: str | None = None
    # The registry aliases admins may move, as JSON: KAIZEN_MODEL_ALIASES='["production","qa"]'.
    model_aliases: list[str] = Field(
        default_factory=lambda: ["production", "staging", "champion", "challenger"]
    )
    # A deployment with one admin: they may approve their own promotion requests (no four-eyes).
    single_admin: bool = False
    # How publishing builds the API image: "auto" uses Docker when its daemon answers, else
    # Podman; "none" never builds (the bundle is written all the same).
    container_engine: Literal["auto", "docker", "podman", "none"] = "auto"
    image_build_timeout_seconds: float = Field(default=1800.0, gt=0)
    # The addresses people reach `kaizen serve` and this app at: share links are made with the
    # first, their sign-in step with the second (behind a proxy, set the public addresses).
    serve_url: str = "http://127.0.0.1:8000"
    app_url: str = "http://localhost:8501"
    # A demo's share link lasts this many days unless its creator says otherwise.
    share_link_days: float = Field(default=7.0, gt=0, le=365)

    @field_validator("model_aliases")
    @classmethod
    def _mlflow_aliases(cls, aliases: list[str]) -> list[str]:
        """Names MLflow accepts as aliases ("latest" and "v3" are its own), each once."""
        cleaned = [a.strip() for a in aliases]
        bad = [a for a in cleaned if not _ALIAS.fullmatch(a) or _RESERVED_ALIAS.fullmatch(a)]
        if bad or not cleaned or len(set(cleaned)) != len(cleaned):
            raise ValueError(
                f"model aliases must be distinct names of letters, digits, _ or -, not "
                f"'latest' or 'v<number>'; got {aliases}"
            )
        return cleaned

    @property
    def datasets_dir(self) -> Path:
        return self.home / "datasets"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    @property
    def jobs_dir(self) -> Path:
        return self.home / "jobs"

    @property
    def tmp_dir(self) -> Path:
        return self.home / "tmp"

    @property
    def mlflow_dir(self) -> Path:
        return self.home / "mlflow"

    @property
    def bundles_dir(self) -> Path:
        return self.home / "bundles"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'kaizen.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests clear the cache after changing the environment)."""
    return Settings()
