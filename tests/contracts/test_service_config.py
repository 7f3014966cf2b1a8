"""`service.yaml`: what the import writes reads back the same, and the policies it states."""

from __future__ import annotations

import pytest
import yaml

from bridge.contracts.config import TIERS, Breaker, OperationPolicy, ServiceConfig
from bridge.domain.errors import ConfigurationError
from bridge.security.clients import TIERS as SECURITY_TIERS


def _config() -> ServiceConfig:
    return ServiceConfig(
        name="vat",
        wsdl="checkVatService.wsdl",
        port="checkVatPort",
        upstream="https://legacy.example/vat",
        scope="vat:call",
        operations={
            "checkVat": OperationPolicy(safe=True),
            "checkVatApprox": OperationPolicy(scope="vat:approx", safe=False, timeout=2.5),
        },
        tiers=("partner", "private"),
        timeout=10,
        retries=3,
        breaker=Breaker(fail_max=4, reset_timeout=60),
    )


def test_the_written_file_reads_back_the_same() -> None:
    config = _config()

    text = config.to_yaml("checkVatService.wsdl")

    assert ServiceConfig.parse(yaml.safe_load(text), "service.yaml") == config


def test_only_safe_operations_are_retried() -> None:
    config = _config()

    assert config.retries_of("checkVat") == 3
    assert config.retries_of("checkVatApprox") == 0
    assert config.retries_of("notListed") == 0


def test_an_operation_timeout_and_scope_override_the_services() -> None:
    config = _config()

    assert config.timeout_of("checkVat") == 10
    assert config.timeout_of("checkVatApprox") == 2.5
    assert config.scope_of("checkVat") == "vat:call"
    assert config.scope_of("checkVatApprox") == "vat:approx"
    assert config.scopes() == {"vat:call", "vat:approx"}


def test_defaults_fill_what_a_short_file_leaves_out() -> None:
    config = ServiceConfig.parse(
        {"name": "vat", "wsdl": "v.wsdl", "upstream": "simulator", "scope": "vat:call"}, "f"
    )

    assert config.simulated
    assert (config.tiers, config.timeout, config.retries) == (TIERS, 10.0, 2)
    assert config.breaker == Breaker()


def test_a_required_key_missing_is_named() -> None:
    with pytest.raises(ConfigurationError, match=r"^f: upstream: missing$"):
        ServiceConfig.parse({"name": "vat", "wsdl": "v.wsdl", "scope": "vat:call"}, "f")


def test_the_tiers_are_the_security_layers() -> None:
    assert TIERS == SECURITY_TIERS
