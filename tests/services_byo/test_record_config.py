"""Recordings served by the bridge (`replay:` in service.yaml) and the `bridge sim` commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from lxml import etree
from werkzeug.test import Client

from bridge.contracts.catalog import Catalog
from bridge.contracts.importer import import_contract
from bridge.domain.errors import ConfigurationError
from bridge.mapping import xml
from bridge.sim_cli import sim
from bridge.sims.recording import Recording
from bridge.sims.services import ServiceSimulator, create_service_simulators
from bridge.store.db import make_engine, migrate
from bridge.upstream.transport import SOAP11_ENV
from tests.common.keepalive import KeepAliveServer, reply
from tests.common.live import serve_wsgi
from tests.common.tls import issue

VAT = "urn:example:vat:v1"
VAT_WSDL = Path(__file__).parents[1] / "data" / "services_byo" / "vat" / "checkVatService.wsdl"
BRIDGE = Path(sys.executable).with_name("bridge")
REQUEST = (
    f'<soap:Envelope xmlns:soap="{SOAP11_ENV}"><soap:Body><v:checkVat xmlns:v="{VAT}">'
    "<v:countryCode>DE</v:countryCode><v:vatNumber>123456789</v:vatNumber></v:checkVat>"
    "</soap:Body></soap:Envelope>"
).encode()
REPLY = (
    f'<soap:Envelope xmlns:soap="{SOAP11_ENV}"><soap:Body><v:checkVatResponse xmlns:v="{VAT}">'
    "<v:countryCode>DE</v:countryCode><v:vatNumber>123456789</v:vatNumber>"
    "<v:requestDate>2026-12-01+01:00</v:requestDate><v:valid>true</v:valid>"
    "</v:checkVatResponse></soap:Body></soap:Envelope>"
).encode()


def imported_vat(root: Path, **replay: str) -> tuple[Path, Path]:
    """(contracts_dir, mappings_dir) holding only `vat`, its service.yaml given `replay`."""
    contracts, mappings = root / "wsdl", root / "mappings"
    import_contract(VAT_WSDL, name="vat", contracts_dir=contracts, mappings_dir=mappings)
    config = contracts / "services" / "vat" / "service.yaml"
    extra = "".join(f"{key}: {value}\n" for key, value in replay.items())
    config.write_text(config.read_text() + extra)
    return contracts, mappings


def record_one(folder: Path) -> None:
    body = xml.parse(REQUEST).find(f"{{{SOAP11_ENV}}}Body")
    assert body is not None
    Recording(folder).save("checkVat", body[0], 200, REPLY)


def check(client: Client) -> tuple[int, bytes]:
    answer = client.post(
        "/",
        data=REQUEST,
        content_type="text/xml; charset=utf-8",
        headers={"SOAPAction": f'"{VAT}#checkVat"'},
    )
    return answer.status_code, answer.data


def test_a_service_yaml_naming_recordings_makes_its_simulator_answer_from_them(
    tmp_path: Path,
) -> None:
    contracts, mappings = imported_vat(tmp_path, replay="recordings")
    service = Catalog.load(contracts, mappings)["vat"]
    record_one(contracts / "services" / "vat" / "recordings")
    engine = make_engine(f"sqlite:///{tmp_path / 'sims.db'}")
    migrate(engine)

    simulators = create_service_simulators([service], engine, "http://bridge.test")
    status, reply = check(Client(simulators["/sims/services/vat"]))

    assert status == 200
    (exchange,) = list(Recording(contracts / "services" / "vat" / "recordings"))
    assert reply == exchange.reply
    assert b"000006789" in reply  # as recorded: masked
    engine.dispose()


def test_a_replay_folder_that_does_not_exist_is_refused_naming_it(tmp_path: Path) -> None:
    contracts, mappings = imported_vat(tmp_path, replay="nowhere")
    service = Catalog.load(contracts, mappings)["vat"]

    with pytest.raises(ConfigurationError, match="nowhere"):
        create_service_simulators([service], make_engine("sqlite://"), "http://bridge.test")


def test_an_unknown_replay_fallback_is_refused_naming_the_key(tmp_path: Path) -> None:
    contracts, mappings = imported_vat(tmp_path, replay="recordings", replay_fallback="maybe")

    with pytest.raises(ConfigurationError, match="replay_fallback"):
        Catalog.load(contracts, mappings)


def test_a_recording_of_an_operation_the_contract_lacks_is_refused(tmp_path: Path) -> None:
    contracts, mappings = imported_vat(tmp_path, replay="recordings")
    service = Catalog.load(contracts, mappings)["vat"]
    folder = contracts / "services" / "vat" / "recordings"
    body = etree.fromstring(f'<v:gone xmlns:v="{VAT}"/>'.encode())
    Recording(folder).save("gone", body, 200, REPLY)

    with pytest.raises(ConfigurationError, match="gone"):
        create_service_simulators([service], make_engine("sqlite://"), "http://bridge.test")


def cli_env(contracts: Path, mappings: Path, root: Path) -> dict[str, str]:
    return {
        "BRIDGE_CONTRACTS_DIR": str(contracts),
        "BRIDGE_MAPPINGS_DIR": str(mappings),
        "BRIDGE_DATABASE_URL": f"sqlite:///{root / 'cli.db'}",
    }


def test_sim_replay_of_a_service_nobody_imported_exits_1_naming_it(tmp_path: Path) -> None:
    contracts, mappings = imported_vat(tmp_path)
    result = CliRunner().invoke(
        sim, ["replay", "nosuch", str(tmp_path)], env=cli_env(contracts, mappings, tmp_path)
    )

    assert result.exit_code == 1
    assert "nosuch" in result.output


def test_sim_record_listens_on_loopback_only(tmp_path: Path) -> None:
    arguments = ["record", "vat", str(tmp_path), "--upstream", "http://x.test/", "--host", "::"]
    result = CliRunner().invoke(sim, arguments)

    assert result.exit_code == 2
    assert "loopback" in result.output


def _record_one_call(
    folder: Path, upstream: str, env: dict[str, str]
) -> tuple[str, requests.Response]:
    """`bridge sim record vat FOLDER --upstream UPSTREAM` as a developer runs it, one checkVat
    through the address it prints: (its first line, the answer)."""
    process = subprocess.Popen(
        [str(BRIDGE), "sim", "record", "vat", str(folder), "--upstream", upstream],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        address = first.split("call ", 1)[1].split(" ", 1)[0]
        answer = requests.post(
            address,
            data=REQUEST,
            headers={"Content-Type": "text/xml", "SOAPAction": f'"{VAT}#checkVat"'},
            timeout=30,
        )
    finally:
        process.terminate()
        process.communicate(timeout=30)
    return first, answer


def test_sim_record_prints_its_address_and_records_what_passes(tmp_path: Path) -> None:
    contracts, mappings = imported_vat(tmp_path)
    service = Catalog.load(contracts, mappings)["vat"]
    engine = make_engine(f"sqlite:///{tmp_path / 'upstream.db'}")
    migrate(engine)
    folder = tmp_path / "recorded"
    with serve_wsgi(ServiceSimulator(service, engine, base_url="http://up.test")) as upstream:
        first, answer = _record_one_call(
            folder, f"{upstream}/", cli_env(contracts, mappings, tmp_path)
        )
    engine.dispose()

    assert first.startswith("recording vat: call http://127.0.0.1:")
    assert answer.status_code == 200, answer.text
    assert [exchange.operation for exchange in Recording(folder)] == ["checkVat"]


def test_sim_record_reaches_an_https_upstream_signed_by_the_configured_authority(
    tmp_path: Path,
) -> None:
    contracts, mappings = imported_vat(tmp_path)
    (tmp_path / "ca").mkdir()
    certificates = issue(tmp_path / "ca", names=("127.0.0.1",))
    env = {
        **cli_env(contracts, mappings, tmp_path),
        "BRIDGE_UPSTREAM_CA_FILE": str(certificates.ca_file),
    }
    folder = tmp_path / "recorded"
    with KeepAliveServer(tls=certificates.server_context()) as upstream:
        upstream.answers.append(reply(REPLY))
        _, answer = _record_one_call(folder, upstream.url, env)

    assert upstream.url.startswith("https://")
    assert answer.status_code == 200, answer.text
    assert len(upstream.bodies) == 1
    assert [exchange.operation for exchange in Recording(folder)] == ["checkVat"]
