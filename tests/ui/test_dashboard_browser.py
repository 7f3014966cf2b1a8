"""The dashboard in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven
by Selenium) against the whole bridge on a loopback port: a payroll outage leaves a dead letter;
an operator signs in, finds it, replays it, runs payroll from the page and sees it delivered.

Needs `apt-get install chromium chromium-driver` (or BRIDGE_TEST_CHROMIUM and
BRIDGE_TEST_CHROMEDRIVER naming the two programs). Without them the test is skipped, or fails
when BRIDGE_REQUIRE_SERVICES=1, as CI sets.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from bridge.app import Bridge
from bridge.sims import controls
from bridge.sync.outbox import Backoff
from tests.common.hr import changes
from tests.common.live import LiveBridge
from tests.common.services import service_unavailable
from tests.credentials import CHEAP, Credentials, grant

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("BRIDGE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("BRIDGE_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"))
# How long a page may take to arrive: a bound on waiting for it, not a timing assertion.
PAGE_WAIT = 60


@pytest.fixture(scope="module")
def chromium() -> Iterator[WebDriver]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        service_unavailable(
            f"headless Chromium not installed ({', '.join(missing)} missing): "
            "apt-get install chromium chromium-driver"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # containers and root: the page is our own loopback server
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(PAGE_WAIT)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def operator(live_bridge: LiveBridge) -> Credentials:
    live_bridge.bridge.security.clients.hasher = CHEAP
    return grant(live_bridge.bridge.engine, tier="private", scopes={"sync:admin"}, name="Ops Olga")


@pytest.fixture
def dead_letter(live_bridge: LiveBridge) -> tuple[int, str]:
    """An HR change whose payroll delivery died in an outage (HTTP 500, retries spent at
    once); payroll is up again afterwards. Its delivery id and key."""
    bridge: Bridge = live_bridge.bridge
    bridge.sync.outbox.backoff = Backoff(max_attempts=1)
    controls(bridge.engine)["payroll"].inject("http_500", count=1)
    [change] = bridge.hr.record_changes(changes()[:1], correlation_id="cid-ui-browser")
    run = bridge.sync.run("payroll")
    assert (run.claimed, run.dead) == (1, 1)
    queued = bridge.hr.queued([change.record_id])[change.record_id]
    return queued.delivery_id, change.record_id


def wait_for(driver: WebDriver, css: str) -> WebElement:
    found: WebElement = WebDriverWait(driver, PAGE_WAIT).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )
    return found


def submit(driver: WebDriver, css: str) -> None:
    """Click a form's button and wait until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, css).click()

    def replaced(_: WebDriver) -> bool:
        try:
            page.is_enabled()
        except WebDriverException:
            # Stale, or chromedriver's "Node with given id does not belong to the document"
            # when the check races the navigation: either way the old page is gone.
            return True
        return False

    WebDriverWait(driver, PAGE_WAIT).until(replaced)


def fill_login(driver: WebDriver, client_id: str, secret: str) -> None:
    wait_for(driver, "#client_id").clear()
    driver.find_element(By.ID, "client_id").send_keys(client_id)
    driver.find_element(By.ID, "client_secret").send_keys(secret)
    submit(driver, "#sign-in")


def test_an_operator_replays_a_dead_letter_and_sees_it_delivered(
    chromium: WebDriver,
    live_bridge: LiveBridge,
    operator: Credentials,
    dead_letter: tuple[int, str],
) -> None:
    delivery_id, key = dead_letter
    driver = chromium
    driver.delete_all_cookies()

    driver.get(f"{live_bridge.url}/ui/")
    assert "/ui/login" in driver.current_url
    fill_login(driver, operator.client.id, "not-the-secret")
    refused = wait_for(driver, "#login-error").text
    fill_login(driver, operator.client.id, operator.secret)

    row = wait_for(driver, f"#dead-{delivery_id}")
    assert row.find_element(By.CSS_SELECTOR, ".key").text == key
    assert "retries exhausted" in row.find_element(By.CSS_SELECTOR, ".reason").text
    submit(driver, f"#replay-{delivery_id}")
    replayed = wait_for(driver, "#delivery-status").text
    submit(driver, "#run-payroll")
    delivered = wait_for(driver, "#delivery-status").text
    driver.get(f"{live_bridge.url}/ui/")
    wait_for(driver, "#no-dead-letters")

    assert refused == "Unknown client id or wrong secret."
    assert (replayed, delivered) == ("pending", "delivered")
    assert driver.find_elements(By.CSS_SELECTOR, f"#dead-{delivery_id}") == []
    applied = controls(live_bridge.bridge.engine)["payroll"].effects(scope="record", key=key)
    assert len(applied) == 1
