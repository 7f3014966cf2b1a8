"""`service.yaml`: how the bridge serves one imported contract, written by the import and
edited by people.

    name: vat
    wsdl: checkVatService.wsdl          # relative to this folder
    port: checkVatPort                   # the port whose binding is served
    upstream: simulator                  # or an http(s) URL
    scope: vat:call                      # the service's scope
    operations:                          # per operation: finer scope, safe (retryable), timeout
      checkVat: {safe: true}
      checkVatApprox: {scope: "vat:approx", safe: true}
    tiers: [public, partner, private]
    timeout: 10                          # seconds, for every operation without its own
    retries: 2                           # only for operations marked safe
    breaker: {fail_max: 5, reset_timeout: 30}
    replay: recordings/                  # optional: the simulator answers from recordings
    replay_fallback: fault               # unrecorded requests: a fault (default) or a sample

Read strictly: an unknown key, a scope outside the service's own name (`vat:...`: a scope of
another service, `banking:write`, would open this one to that service's clients), a tier the
bridge does not know, a timeout that is not positive: each is a ConfigurationError naming the
file and the key. `safe` defaults to false: a retry of an operation that is not idempotent could
apply it twice, and the import cannot tell, so it marks nothing safe unless told.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bridge.domain.errors import ConfigurationError

# The tiers of bridge.security.clients.Tier (a test keeps the two equal; contracts/ stays free
# of the security layer's database imports).
TIERS: tuple[str, ...] = ("public", "partner", "private")
SIMULATOR = "simulator"
_WORD = r"[a-z][a-z0-9_-]*"
SCOPE = re.compile(rf"{_WORD}:{_WORD}")
_KEYS = {"name", "wsdl", "port", "upstream", "scope", "operations", "tiers", "timeout"}
_KEYS |= {"retries", "breaker", "replay", "replay_fallback"}
REPLAY_FALLBACKS = ("fault", "sample")
_OPERATION_KEYS = {"scope", "safe", "timeout"}
_BREAKER_KEYS = {"fail_max", "reset_timeout"}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe parser when present


@dataclass(frozen=True, slots=True)
class OperationPolicy:
    scope: str | None = None  # a finer scope than the service's; None: the service's
    safe: bool = False  # may be retried (idempotent)
    timeout: float | None = None  # None: the service's


@dataclass(frozen=True, slots=True)
class Breaker:
    fail_max: int = 5
    reset_timeout: float = 30.0


@dataclass(frozen=True)
class ServiceConfig:
    """One imported service's `service.yaml`, checked."""

    name: str
    wsdl: str
    upstream: str
    scope: str
    port: str | None = None
    operations: Mapping[str, OperationPolicy] = field(default_factory=dict)
    tiers: tuple[str, ...] = TIERS
    timeout: float = 10.0
    retries: int = 2
    breaker: Breaker = Breaker()
    # Recordings (`bridge sim record`) the generated simulator answers from, relative to the
    # service's folder unless absolute; what it answers a request nobody recorded.
    replay: str | None = None
    replay_fallback: str = "fault"

    @property
    def simulated(self) -> bool:
        """True when the service is wired to its generated simulator, not a real upstream."""
        return self.upstream == SIMULATOR

    def policy(self, operation: str) -> OperationPolicy:
        return self.operations.get(operation, OperationPolicy())

    def scope_of(self, operation: str) -> str:
        return self.policy(operation).scope or self.scope

    def timeout_of(self, operation: str) -> float:
        timeout = self.policy(operation).timeout
        return self.timeout if timeout is None else timeout

    def retries_of(self, operation: str) -> int:
        """Retries only for an operation marked safe: a retry could apply it twice."""
        return self.retries if self.policy(operation).safe else 0

    def scopes(self) -> set[str]:
        return {self.scope} | {p.scope for p in self.operations.values() if p.scope}

    def described_scopes(self) -> dict[str, str]:
        """Each scope this file declares and what it lets a client do (API documents, the
        app's scope registry `bridge.security.access.Scopes`)."""
        described = {self.scope: f"Call the imported service {self.name}"}
        for operation, policy in self.operations.items():
            if policy.scope:
                described.setdefault(
                    policy.scope, f"Call {operation} of the imported service {self.name}"
                )
        return described

    @classmethod
    def read(cls, path: Path, name: str | None = None) -> ServiceConfig:
        """The file at `path`; `name`, when given, is the only name it may declare."""
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506
        except OSError as exc:
            raise ConfigurationError(f"{path}: cannot be read ({exc.strerror})") from None
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{path}: not valid YAML ({exc})") from None
        return cls.parse(data, str(path), name)

    @classmethod
    def parse(cls, data: Any, where: str, expected: str | None = None) -> ServiceConfig:
        """A checked config from the YAML's data; `where` names the file in messages."""
        check = _Checker(where)
        top = check.mapping(data, "", _KEYS, required={"name", "wsdl", "upstream", "scope"})
        name = check.text(top["name"], "name")
        if expected is not None and name != expected:
            raise check.fail("name", f"{name!r} is not the folder's name {expected!r}")
        defaults = cls(name=name, wsdl="", upstream=SIMULATOR, scope=f"{name}:call")
        breaker = check.mapping(top.get("breaker", {}), "breaker", _BREAKER_KEYS)
        return cls(
            name=name,
            wsdl=check.relative(top["wsdl"], "wsdl"),
            port=None if top.get("port") is None else check.text(top["port"], "port"),
            upstream=check.upstream(top["upstream"], "upstream"),
            scope=check.scope(top["scope"], "scope", name),
            operations=check.operations(top.get("operations") or {}, name),
            tiers=check.tiers(top.get("tiers", list(TIERS)), "tiers"),
            timeout=check.positive(top.get("timeout", defaults.timeout), "timeout"),
            retries=check.count(top.get("retries", defaults.retries), "retries"),
            breaker=Breaker(
                fail_max=check.count(
                    breaker.get("fail_max", defaults.breaker.fail_max),
                    "breaker.fail_max",
                    minimum=1,
                ),
                reset_timeout=check.positive(
                    breaker.get("reset_timeout", defaults.breaker.reset_timeout),
                    "breaker.reset_timeout",
                ),
            ),
            replay=None if top.get("replay") is None else check.folder(top["replay"], "replay"),
            replay_fallback=check.choice(
                top.get("replay_fallback", defaults.replay_fallback),
                "replay_fallback",
                REPLAY_FALLBACKS,
            ),
        )

    def to_yaml(self, source: str) -> str:
        """The file as the import writes it: every key, with a comment saying what it is."""
        lines = [
            f"# Imported by `bridge contract import` from {source}. Edit freely: the bridge",
            "# checks this file against the contract at start-up and refuses what does not fit.",
            f"name: {_flow(self.name)}",
            f"wsdl: {_flow(self.wsdl):<30} # relative to this folder",
            f"port: {_flow(self.port):<30} # the port whose binding is served",
            f"upstream: {_flow(self.upstream):<26} # `simulator` or an http(s) URL",
            f"scope: {_flow(self.scope):<29} # what a client needs to call the service",
            "operations:                          # per operation: scope, safe (retried), timeout",
        ]
        for operation, policy in self.operations.items():
            shown: dict[str, Any] = {"safe": policy.safe}
            if policy.scope:
                shown["scope"] = policy.scope
            if policy.timeout is not None:
                shown["timeout"] = policy.timeout
            lines.append(f"  {_flow(operation)}: {_flow(shown)}")
        lines += [
            f"tiers: {_flow(list(self.tiers))}",
            f"timeout: {_flow(self.timeout):<27} # seconds, for every operation",
            f"retries: {_flow(self.retries):<27} # only for operations marked safe",
            "breaker: "
            + _flow(
                {"fail_max": self.breaker.fail_max, "reset_timeout": self.breaker.reset_timeout}
            ),
        ]
        if self.replay is not None:
            lines += [f"replay: {_flow(self.replay)}", f"replay_fallback: {self.replay_fallback}"]
        return "\n".join(lines) + "\n"


def _flow(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    dumped = yaml.safe_dump(value, default_flow_style=True, width=1_000).strip()
    return dumped.removesuffix("...").strip()


class _Checker:
    """Checks one file's values, each refusal naming the file and the key."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, key: str, what: str) -> ConfigurationError:
        return ConfigurationError(f"{self.where}: {key}: {what}")

    def mapping(
        self, value: Any, key: str, allowed: set[str], required: Collection[str] = ()
    ) -> dict[str, Any]:
        label = key or "the file"
        if not isinstance(value, dict):
            raise self.fail(label, "expected a mapping")
        prefix = f"{key}." if key else ""
        for name in value:
            if name not in allowed:
                raise self.fail(f"{prefix}{name}", f"unknown key; allowed: {sorted(allowed)}")
        for name in sorted(set(required) - set(value)):
            raise self.fail(f"{prefix}{name}", "missing")
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "expected a non-empty string")
        return value.strip()

    def relative(self, value: Any, key: str) -> str:
        text = self.text(value, key)
        if text.startswith(("/", "\\")) or ".." in Path(text).parts or ":" in text:
            raise self.fail(key, f"{text!r} must be a path inside the service's folder")
        return text

    def folder(self, value: Any, key: str) -> str:
        """A folder: absolute, or relative to the service's folder (`..` allowed: recordings
        often lie beside the contracts, not inside them)."""
        text = self.text(value, key)
        if "\0" in text:
            raise self.fail(key, "a folder name holds no NUL character")
        return text

    def choice(self, value: Any, key: str, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            raise self.fail(key, f"expected one of {list(allowed)}, got {value!r}")
        return str(value)

    def upstream(self, value: Any, key: str) -> str:
        text = self.text(value, key)
        if text == SIMULATOR:
            return text
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.fail(key, f"expected `simulator` or an http(s) URL, got {text!r}")
        return text

    def scope(self, value: Any, key: str, service: str) -> str:
        text = self.text(value, key)
        if not SCOPE.fullmatch(text):
            raise self.fail(key, f"{text!r} is not a scope of the form name:word")
        if text.split(":")[0] != service:
            raise self.fail(key, f"{text!r} must be one of this service's scopes ({service}:...)")
        return text

    def tiers(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(key, f"expected a non-empty list of tiers from {list(TIERS)}")
        for tier in value:
            if tier not in TIERS:
                raise self.fail(key, f"unknown tier {tier!r}; tiers: {list(TIERS)}")
        return tuple(dict.fromkeys(value))

    def positive(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise self.fail(key, f"expected a positive number of seconds, got {value!r}")
        return float(value)

    def count(self, value: Any, key: str, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"expected a whole number, {minimum} or more, got {value!r}")
        return value

    def operations(self, value: Any, service: str) -> dict[str, OperationPolicy]:
        table = self.mapping(value, "operations", set(value) if isinstance(value, dict) else set())
        policies = {}
        for name, raw in table.items():
            key = f"operations.{name}"
            entry = self.mapping(raw if raw is not None else {}, key, _OPERATION_KEYS)
            safe = entry.get("safe", False)
            if not isinstance(safe, bool):
                raise self.fail(f"{key}.safe", f"expected true or false, got {safe!r}")
            scope = entry.get("scope")
            timeout = entry.get("timeout")
            policies[str(name)] = OperationPolicy(
                scope=None if scope is None else self.scope(scope, f"{key}.scope", service),
                safe=safe,
                timeout=None if timeout is None else self.positive(timeout, f"{key}.timeout"),
            )
        return policies
