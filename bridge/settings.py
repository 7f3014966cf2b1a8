"""Settings: one object, read once at start-up from a TOML file and `BRIDGE_*` variables.

Precedence, highest first: keyword arguments, environment (`BRIDGE_PORT=9000`), the TOML file
(`bridge.toml` in the working directory, or the file named by `--config` / `BRIDGE_CONFIG`),
then the defaults below, which run everything embedded: SQLite, in-process simulators (on a
loopback host), scheduler on.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
from collections.abc import Mapping
from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal

from apscheduler.triggers.cron import CronTrigger
from limits import RateLimitItem, parse_many
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

# Rate-limit plans (`rate_limit_plans`): new clients get DEFAULT_PLAN, and clients of a plan
# that is not configured fall back to it. Plan names go into the RateLimit header fields as
# structured-field strings: keep them plain.
DEFAULT_PLAN = "standard"
UNLIMITED = "unlimited"
PLAN_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")

_EVERY = re.compile(r"every\s+([1-9][0-9]{0,6})\s*([smh])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BRIDGE_", extra="forbid", frozen=True)
    toml_file: ClassVar[Path | None] = None

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # The address callers use to reach this bridge; it goes into the served WSDLs' soap:address.
    public_url: str = ""
    database_url: str = "sqlite:///var/bridge.db"
    redis_url: str | None = None
    # Run the four upstream simulators in this process and point the zeep clients without a URL
    # of their own at them. Unset (auto): on when `host` is a loopback address, off otherwise
    # (a container binding 0.0.0.0 must not serve a fake bank); `simulators_decision` says why.
    simulators: bool | None = None
    # Upstream endpoints; empty means "this process's simulator", and is refused by
    # `bridge serve` when the simulators are off.
    corebank_url: str = ""
    payroll_url: str = ""
    logistics_url: str = ""
    classifier_url: str = ""
    upstream_timeout: float = Field(10.0, gt=0, le=300)
    # The certificate authorities an https:// upstream's certificate must chain to (a PEM file,
    # e.g. the enterprise's internal CA); unset: the public ones (certifi). It replaces, not adds.
    upstream_ca_file: Path | None = None
    # The logistics partner that shipments created here are booked with and that may send their
    # delivery events and read them: the organisation of its API clients (or a client id, for a
    # client without one).
    logistics_partner: str = Field("logistics", min_length=1, max_length=64)
    # Largest SOAP request accepted; a larger one is refused before it is read.
    soap_max_body_bytes: int = Field(1_048_576, ge=1024, le=64 * 1_048_576)
    # Input limits, enforced while a body is read, before anything is built whole (README,
    # "Input limits"). XML of the SOAP doors: elements and nesting (the root is level 1; the
    # defaults are bridge/mapping/xml.py's, which every contract's largest message fits, a
    # 1,000-record payroll batch of 13,004 elements). REST: the body's bytes (larger: 413;
    # POST /hr/changes takes 1 MiB) and the nesting of its JSON arrays and objects.
    xml_max_elements: int = Field(20_000, ge=100, le=1_000_000)
    xml_max_depth: int = Field(64, ge=8, le=256)
    rest_max_body_bytes: int = Field(65_536, ge=1024, le=64 * 1_048_576)
    json_max_depth: int = Field(32, ge=4, le=128)
    scheduler: bool = True
    # How often (seconds) a process that does not run the scheduler asks for the scheduler lock
    # and joins the runs the scheduler fired: the longest a dead node's schedules wait for a new
    # leader, and the longest a node waits before it helps drain a scheduled run.
    scheduler_poll: float = Field(15.0, gt=0, le=300)
    # Sync schedules: a crontab (UTC) or "every <n>s|m|h" (`check_schedule`), run on a grid from
    # the epoch (bridge/sync/triggers.py); see bridge/sync/scheduler.py for the job defaults.
    payroll_schedule: str = "*/15 * * * *"
    shipments_schedule: str = "* * * * *"
    classification_schedule: str = "0 2 * * *"
    housekeeping_schedule: str = "17 * * * *"
    # The reconciler (bridge/sync/reconcile.py) settles transfers no request finished: RCVD ones
    # whose lease expired, and PDNG ones not asked about for reconcile_pending_every seconds.
    # One core banking never received is posted, unless it was received more than
    # reconcile_post_within seconds ago (then rejected unposted). /metrics counts transfers
    # still unsettled reconcile_alert_after seconds after they were received.
    reconcile_schedule: str = "every 1m"
    reconcile_pending_every: float = Field(300.0, gt=0, le=86400)
    reconcile_post_within: float = Field(86400.0, gt=0, le=30 * 86400)
    reconcile_alert_after: float = Field(300.0, gt=0, le=30 * 86400)
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
    # Dashboard (/ui): the key that signs its session cookies. Empty means the file
    # ui-session.key in token_keys_dir, made on first use and shared by nodes like the signing
    # keys. A login lasts ui_session_hours; the cookie is Secure when public_url is https.
    ui_secret_key: str = Field("", repr=False)
    ui_session_hours: float = Field(8.0, gt=0, le=7 * 24)
    # WS-Security UsernameToken on the SOAP doors: a Created older than wss_window seconds, or
    # more than wss_clock_skew seconds ahead of this node's clock, is refused; nonces are
    # remembered for window + skew (in Redis when redis_url is set, else in the database).
    # PasswordText, the password itself in the message, is refused unless wss_password_text.
    wss_window: int = Field(300, ge=30, le=3600)
    wss_clock_skew: int = Field(60, ge=0, le=600)
    wss_password_text: bool = False
    # Rate limits: plan name -> a rate of the `limits` library ("100/minute", "5/10second") or
    # "unlimited". A table given here (TOML) or in BRIDGE_RATE_LIMIT_PLANS (JSON) replaces this
    # one, and must keep "standard": new clients get it, and clients of a plan missing here fall
    # back to it. Counted in memory per process, or in Redis (shared) when redis_url is set, under
    # keys starting with rate_limit_prefix. See bridge/security/ratelimit.py.
    rate_limit_plans: dict[str, str] = Field(
        default_factory=lambda: {
            "standard": "100/minute",
            "enterprise": "1000/minute",
            "internal": "unlimited",
        }
    )
    rate_limit_prefix: str = Field("bridge", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    # Audit log and security events. trusted_proxies: how many reverse proxies in front of the
    # bridge append to X-Forwarded-For; 0 means the source address is the connection's peer and
    # X-Forwarded-For is ignored (a caller can write anything there). auth_failure_burst failed
    # authentications from one source within auth_failure_window seconds are one security event
    # (counted per process: each gunicorn worker and node sees its own share of the failures).
    trusted_proxies: int = Field(0, ge=0, le=8)
    # Seconds the audit writer lets a batch fill before writing it (README, "Audit log").
    audit_flush_interval: float = Field(1.0, gt=0, le=3600)
    auth_failure_burst: int = Field(10, ge=2, le=10_000)
    auth_failure_window: float = Field(60.0, gt=0, le=86400)
    # Guessing: after auth_failure_limit refused credentials for one client id, or
    # auth_failure_source_limit from one source, within auth_failure_lockout seconds, further
    # attempts are answered 429 unchecked until that window ends (bridge/security/throttle.py;
    # shared through Redis when redis_url is set).
    auth_failure_limit: int = Field(10, ge=1, le=10_000)
    auth_failure_source_limit: int = Field(30, ge=1, le=100_000)
    auth_failure_lockout: int = Field(300, ge=1, le=86400)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The mapping specs, and the contracts (WSDLs with their schemas): the SOAP doors serve and
    # validate, the OpenAPI document and the REST door's contract checks narrow, the simulators
    # serve and the upstream clients call what is in contracts_dir, all of them (same layout
    # as wsdl/: banking.wsdl, partner.wsdl, upstream/<name>.wsdl, services/<name>/).
    mappings_dir: Path = ROOT / "mappings"
    contracts_dir: Path = ROOT / "wsdl"
    # The seed of the imported services' generated simulators (bridge/sims/services.py): their
    # answers are samples drawn from it and the request, so a run can be repeated exactly.
    simulator_seed: int = Field(0, ge=0, le=2**31 - 1)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator(
        "payroll_schedule",
        "shipments_schedule",
        "classification_schedule",
        "housekeeping_schedule",
        "reconcile_schedule",
    )
    @classmethod
    def _crontab(cls, value: str) -> str:
        check_schedule(value)  # a ValueError names what is wrong
        return value

    @field_validator("public_url", "corebank_url", "payroll_url", "logistics_url", "classifier_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("upstream_ca_file")
    @classmethod
    def _ca_file(cls, value: Path | None) -> Path | None:
        """Loaded now, so a wrong path or a file of no certificates stops the start, not the
        first call."""
        if value is not None:
            try:
                ssl.create_default_context(cafile=value)
            except OSError as exc:  # ssl.SSLError is one too
                reason = exc.strerror or str(exc)
                raise ValueError(f"{value}: not a PEM file of certificates ({reason})") from None
        return value

    @field_validator("rate_limit_plans")
    @classmethod
    def _rate_limit_plans(cls, value: dict[str, str]) -> dict[str, str]:
        parse_plans(value)
        return value

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
        """The configured address of upstream `name`; empty: this process's simulator."""
        configured: str = getattr(self, f"{name}_url")
        return configured

    def simulators_decision(self) -> tuple[bool, str]:
        """Whether this process runs the simulators, and why (what `bridge serve` prints)."""
        if self.simulators is not None:
            return self.simulators, f"simulators = {str(self.simulators).lower()}"
        if is_loopback(self.host):
            return True, f"host {self.host} is loopback (simulators unset: auto)"
        return False, (
            f"host {self.host} is not loopback (simulators unset: auto); "
            "set simulators = true (BRIDGE_SIMULATORS) to run them anyway"
        )

    @property
    def run_simulators(self) -> bool:
        return self.simulators_decision()[0]

    def unconfigured_upstreams(self) -> list[str]:
        """Upstreams without a URL that no simulator of this process would answer: each names
        its setting, e.g. "corebank_url (BRIDGE_COREBANK_URL)"."""
        if self.run_simulators:
            return []
        return [
            f"{name}_url (BRIDGE_{name.upper()}_URL)"
            for name in UPSTREAMS
            if not self.upstream_url(name)
        ]


def schedule_period(expression: str) -> timedelta | None:
    """The fixed period of an ``every <n>s|m|h`` schedule expression; None for a crontab.

    Here, below everything that reads a schedule, so that the settings check their own values
    and `bridge.sync.triggers` turns them into triggers without either importing the other."""
    match = _EVERY.fullmatch(expression.strip())
    if match is None:
        return None
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


def check_schedule(expression: str) -> None:
    """A `ValueError` naming what is wrong unless `expression` is a crontab (UTC) or
    ``every <n>s|m|h``."""
    if schedule_period(expression) is not None:
        return
    try:
        CronTrigger.from_crontab(expression, timezone=UTC)
    except ValueError as exc:
        raise ValueError(f"neither a crontab expression nor 'every <n>s|m|h' ({exc})") from None


def parse_plans(plans: Mapping[str, str]) -> dict[str, RateLimitItem | None]:
    """Each plan's rate (None for "unlimited"), or a ValueError naming the first bad plan: the
    check of `rate_limit_plans`, and what `bridge.security.ratelimit` counts by."""
    if DEFAULT_PLAN not in plans:
        raise ValueError(
            f"the {DEFAULT_PLAN!r} plan is missing: new clients get it, and clients of a plan "
            "that is not configured fall back to it"
        )
    parsed: dict[str, RateLimitItem | None] = {}
    for name, rate in plans.items():
        if not PLAN_NAME.fullmatch(name):
            raise ValueError(
                f"plan {name!r}: a plan name is 1 to 32 of a-z 0-9 _ . - "
                "(starting with a letter or digit)"
            )
        if rate.strip().lower() == UNLIMITED:
            parsed[name] = None
            continue
        try:
            items = parse_many(rate)
        except ValueError:
            raise ValueError(
                f"plan {name!r}: {rate!r} is not a rate such as '100/minute', '5/10second' "
                f"or {UNLIMITED!r}"
            ) from None
        if len(items) != 1:
            raise ValueError(f"plan {name!r}: one rate per plan, got {rate!r}")
        if items[0].get_expiry() < 1:
            raise ValueError(f"plan {name!r}: the window of {rate!r} is empty")
        parsed[name] = items[0]
    return parsed


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: an address only this machine reaches."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:  # another host name: it may resolve to anything
        return False


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
