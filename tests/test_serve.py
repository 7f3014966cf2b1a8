"""`bridge serve` as a user runs it: a real gunicorn process on a loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import zeep
from lxml import etree
from zeep.helpers import serialize_object
from zeep.transports import Transport

from tests.conftest import free_port

SAMPLES = Path(__file__).parent / "data" / "samples"
UPSTREAMS = ("corebank", "payroll", "logistics", "classifier")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, what `bridge serve` printed) for a bridge started with its default settings."""
    workdir = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {**os.environ, "BRIDGE_PORT": str(port), "BRIDGE_SCHEDULER": "false"}
    bridge = Path(sys.executable).with_name("bridge")
    process = subprocess.Popen(
        [str(bridge), "serve"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
        else:
            pytest.fail("bridge serve did not answer /healthz within 60 s")
        yield base, workdir.as_posix()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        (workdir / "serve.log").write_text(output)


def test_serve_answers_health_and_is_ready_on_the_embedded_default(served: tuple[str, str]) -> None:
    base, workdir = served
    assert requests.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["migrations"] == "ok"
    assert Path(workdir, "var", "bridge.db").exists()  # SQLite under the working directory


def _sample_requests(contract: str) -> dict[str, Path]:
    """One sample request document per operation, by root element name."""
    found: dict[str, Path] = {}
    for sample in sorted((SAMPLES / contract).glob("*.xml")):
        root = etree.QName(etree.parse(str(sample)).getroot()).localname
        if not root.endswith("Response"):
            found.setdefault(root, sample)
    return found


@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_zeep_loads_each_simulator_wsdl_from_the_server_and_calls_every_operation(
    served: tuple[str, str], upstream: str
) -> None:
    base, _ = served
    settings = zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=False)
    client = zeep.Client(
        f"{base}/sims/{upstream}?wsdl",
        transport=Transport(timeout=10, operation_timeout=10),
        settings=settings,
    )
    (binding,) = client.wsdl.bindings.values()
    samples = _sample_requests(upstream)
    operations = sorted(binding._operations)
    assert operations
    assert set(operations) <= set(samples), (operations, sorted(samples))
    for operation in operations:
        element = client.get_element(f"{{{binding.name.namespace}}}{operation}")
        document = etree.parse(str(samples[operation])).getroot()
        arguments = serialize_object(element.parse(document, client.wsdl.types), dict)
        reply = getattr(client.service, operation)(**arguments)
        assert reply is not None, f"{upstream}.{operation} answered nothing"
