"""Server settings from the environment (prefix LIVEGRAD_) or keyword arguments.

Nothing is read at import time: `Settings()` reads the environment when called.
May import: stdlib, pydantic, pydantic-settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIVEGRAD_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Database, checkpoints, events.")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in data_dir."
    )
    max_concurrent_runs: int = Field(default=2, ge=1, le=256)
    warm_workers: int = Field(
        default=1, ge=0, le=64,
        description="Idle workers the pool keeps ready (engine imported, warmed up). "
        "Replacements start in the background, one at a time, after the run that took a "
        "worker has started, and only while at most top_up_max_active runs are active; "
        "after a run ends its worker stays idle (up to max(warm_workers, "
        "max_concurrent_runs) idle ones are kept).")
    top_up_max_active: int | None = Field(
        default=None, ge=0, le=256,
        description="Replacement workers import torch only while at most this many runs "
        "are active; default: CPU cores // worker_threads - 1 (a core is left over).")
    worker_threads: int = Field(default=1, ge=1, le=256, description="torch threads per worker.")
    worker_nice: int = Field(
        default=10, ge=0, le=19,
        description="Scheduling niceness added to workers: training yields the CPU to the server "
        "and the browser, so pages stay smooth while runs train flat out.")
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    access_token: str | None = Field(default=None, description="If set, required by every call.")
    allowed_origins: list[str] = Field(
        default_factory=list, description="Origins allowed besides the server's own and "
        "loopback ones (CORS, and the websocket's Origin check); '*' allows any.")
    outbox_scalars: int = Field(default=4096, ge=16, description="Light frames a client may lag.")
    ws_stall_s: float = Field(default=10.0, gt=0, description="A websocket client that takes "
                              "no frame for this long while frames wait is dropped.")
    history_events: int = Field(default=20_000, ge=100, description="Light events kept per run.")
    history_bytes: int = Field(default=64 << 20, ge=1 << 16, description="Bytes of light "
                               "events kept per run (the oldest go first; /metrics has all).")
    shutdown_grace_s: float = Field(default=3.0, ge=0)
    plugins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Python modules imported by the server and every "
        "worker before any run (they register families, probes, events, layers or data sets); "
        "LIVEGRAD_PLUGINS takes them comma-separated.")

    # retention
    retain_raw_runs: int = Field(
        default=50, ge=0, description="The newest finished runs that keep their metric "
        "series raw (up to retain_max_points points each); older finished runs are compacted "
        "to retain_compacted_points per series. A running run is never compacted.")
    retain_max_points: int = Field(
        default=1_000_000, ge=16, description="Stored points per metric series of a finished "
        "run at most (about 8 MB at 8 bytes a point); past it the series is compacted: its "
        "first and last points and each bucket's minimum and maximum are kept.")
    retain_compacted_points: int = Field(
        default=10_000, ge=16, description="Points per metric series kept by runs older "
        "than the newest retain_raw_runs finished ones.")

    # security
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Host names (or addresses) the server answers besides "
        "loopback ones (localhost, 127.0.0.1, [::1], any port) and the address it binds; "
        "'*.example.org': its subdomains; '*': any. Others get 421 (DNS rebinding). "
        "LIVEGRAD_ALLOWED_HOSTS takes them comma-separated.")
    allow_no_token: bool = Field(
        default=False, description="Serve a non-loopback host without an access token "
        "(`livegrad serve` refuses otherwise).")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _hosts_comma_separated(cls, value: Any) -> Any:
        return cls._comma_separated(value)

    @field_validator("access_token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("plugins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'livegrad.db').resolve()}"

    def run_dir(self, run_id: str) -> Path:
        return self.data_dir / "runs" / run_id

    # limits: what one run may ask of this machine (defaults fit a laptop; a class server
    # may lower them). Each refusal names its limit and the variable that raises it.
    max_params: int = Field(default=50_000_000, ge=1, description="Most trainable parameters "
                            "a run's networks may have (LIVEGRAD_MAX_PARAMS).")
    max_steps: int = Field(default=10_000_000, ge=1, description="Most optimizer steps a run "
                           "may ask for, given as steps or as epochs (LIVEGRAD_MAX_STEPS).")
    max_run_seconds: float = Field(default=3600.0, gt=0, description="Wall time after which "
                                   "a run is stopped, with a warning (LIVEGRAD_MAX_RUN_SECONDS).")
    max_queued_runs: int = Field(default=32, ge=0, description="Runs that may wait for a "
                                 "worker; past it POST /runs is refused with 429 "
                                 "(LIVEGRAD_MAX_QUEUED_RUNS).")
