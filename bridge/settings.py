"""Settings: one object, read once at start-up from a TOML file and `BRIDGE_*` variables.

Precedence, highest first: keyword arguments, environment (`BRIDGE_PORT=9000`), the TOML file
(`bridge.toml` in the working directory, or the file named by `--config` / `BRIDGE_CONFIG`),
then the defaults below, which run everything embedded: SQLite, in-process simulators, scheduler on.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bridge.domain.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[1]
UPSTREAMS = ("corebank", "payroll", "logistics", "classifier")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BRIDGE_", extra="forbid", frozen=True)
    toml_file: ClassVar[Path | None] = None

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # The address callers use to reach this bridge; it goes into the served WSDLs' soap:address.
    public_url: str = ""
    database_url: str = "sqlite:///var/bridge.db"
    redis_url: str | None = None
    # Mount the four upstream simulators in this process and point the zeep clients at them.
    simulators: bool = True
    # Upstream endpoints; empty means "the in-process simulator of this bridge".
    corebank_url: str = ""
    payroll_url: str = ""
    logistics_url: str = ""
    classifier_url: str = ""
    upstream_timeout: float = Field(10.0, gt=0, le=300)
    # The logistics partner (an API client id) that shipments created here are booked with and
    # that may send their delivery events; "anonymous" until API clients exist.
    logistics_partner: str = Field("anonymous", min_length=1, max_length=64)
    # Largest SOAP request accepted; a larger one is refused before it is read.
    soap_max_body_bytes: int = Field(1_048_576, ge=1024, le=64 * 1_048_576)
    scheduler: bool = True
    # Sync schedules (crontab, UTC); see bridge/sync/scheduler.py for the job defaults.
    payroll_schedule: str = "*/15 * * * *"
    shipments_schedule: str = "* * * * *"
    classification_schedule: str = "0 2 * * *"
    housekeeping_schedule: str = "17 * * * *"
    # Delivered outbox rows are deleted this long after delivery (dead letters are kept).
    outbox_retention_days: int = Field(7, ge=1, le=3650)
    # How long a worker holds claimed outbox rows; a worker that dies frees them after this.
    sync_lease: float = Field(300.0, gt=0, le=86400)
    # Classifications under this confidence are flagged for human review.
    review_threshold: Decimal = Field(Decimal("0.75"), ge=0, le=1)
    workers: int = Field(1, ge=1, le=64)
    threads: int = Field(8, ge=1, le=256)
    # OAuth2 access tokens: EdDSA JWTs. An empty issuer means base_url.
    token_issuer: str = ""
    token_audience: str = Field("bridge", min_length=1)
    access_token_ttl: int = Field(3600, ge=60, le=86400)
    refresh_token_ttl: int = Field(30 * 86400, ge=300, le=365 * 86400)
    # Signing keys: <kid>.pem (PKCS#8 Ed25519) files; one is created if the directory is empty.
    token_keys_dir: Path = Path("var/keys")
    # The kid that signs; empty means the greatest kid in token_keys_dir.
    token_signing_kid: str = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    mappings_dir: Path = ROOT / "mappings"
    contracts_dir: Path = ROOT / "wsdl"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator(
        "payroll_schedule", "shipments_schedule", "classification_schedule", "housekeeping_schedule"
    )
    @classmethod
    def _crontab(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"not a crontab expression ({exc})") from None
        return value

    @field_validator("public_url", "corebank_url", "payroll_url", "logistics_url", "classifier_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls.toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls.toml_file))
        return tuple(sources)

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    def upstream_url(self, name: str) -> str:
        """Where the zeep client for `name` sends its calls."""
        configured: str = getattr(self, f"{name}_url")
        return configured or f"{self.base_url}/sims/{name}"


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings, or raise `ConfigurationError` naming every bad setting and its source."""
    path = config or (
        Path(os.environ["BRIDGE_CONFIG"]) if os.environ.get("BRIDGE_CONFIG") else None
    )
    if path is None and Path("bridge.toml").exists():
        path = Path("bridge.toml")
    if path is not None and not path.is_file():
        raise ConfigurationError(f"settings file {path} does not exist")
    source = type("FileSettings", (Settings,), {"toml_file": path})
    try:
        settings: Settings = source(**overrides)
        return settings
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'} "
            f"(BRIDGE_{str(e['loc'][0]).upper() if e['loc'] else ''}): {e['msg']}"
            for e in exc.errors()
        )
        where = f" in {path} or the environment" if path else " in the environment"
        raise ConfigurationError(f"bad settings{where}: {problems}") from None
    except ValueError as exc:  # a TOML syntax error
        raise ConfigurationError(f"settings file {path}: {exc}") from None
