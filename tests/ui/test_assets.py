"""The dashboard loads nothing from anywhere but the bridge: no CDN, no script, and a
Content-Security-Policy that tells the browser so."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.test import Client

import bridge.ui
from bridge.app import Bridge
from bridge.ui.app import CONTENT_SECURITY_POLICY
from tests.common.ui import UI, Page, dead_letter, get, post_form, sign_in
from tests.credentials import Credentials

LINKING_ATTRIBUTES = ("href", "src", "action", "formaction", "srcset", "poster", "data")
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
STATIC = Path(bridge.ui.__file__).parent / "static"


def pages(browser: Client, bridge: Bridge, operator: Credentials) -> dict[str, Page]:
    """Every kind of page, with something in each panel."""
    found = {"login": get(browser, "/login")}
    refused = Client(bridge)
    found["login refused"] = Page(sign_in(refused, operator.client.id, "wrong"))
    sign_in(browser, operator.client.id, operator.secret)
    delivery_id = dead_letter(bridge)
    post_form(browser, "/jobs/shipments/run", {})
    found["overview"] = get(browser, "/", window="24h", refresh="1")
    found["delivery"] = get(browser, f"/deliveries/{delivery_id}")
    found["audit"] = get(browser, "/audit")
    found["not found"] = get(browser, "/deliveries/999999")
    found["form refused"] = Page(browser.post(f"{UI}/deliveries/{delivery_id}/replay"))
    return found


@pytest.fixture
def every_page(browser: Client, ui_bridge: Bridge, operator: Credentials) -> dict[str, Page]:
    return pages(browser, ui_bridge, operator)


def test_no_page_refers_to_anything_outside_the_dashboard(every_page: dict[str, Page]) -> None:
    outside = []
    for name, page in every_page.items():
        for element in page.tree.iter():
            for attribute in (*LINKING_ATTRIBUTES, XLINK_HREF):
                for value in (element.get(attribute) or "").split(","):
                    link = value.strip().split(" ")[0]
                    if link and not (link.startswith(f"{UI}/") or link.startswith("#")):
                        outside.append(f"{name}: <{element.tag} {attribute}={link!r}>")
    assert outside == []
    assert {name: page.response.status_code for name, page in every_page.items()} == {
        "login": 200,
        "login refused": 401,
        "overview": 200,
        "delivery": 200,
        "audit": 200,
        "not found": 404,
        "form refused": 403,
    }


def test_no_page_carries_a_script_or_inline_style(every_page: dict[str, Page]) -> None:
    for page in every_page.values():
        assert page.tree.xpath("//script | //*[@style] | //style | //iframe") == []
        assert not [name for e in page.tree.iter() for name in e.attrib if name.startswith("on")]


def test_every_page_says_so_in_its_content_security_policy(every_page: dict[str, Page]) -> None:
    for page in every_page.values():
        assert page.response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert page.response.headers["X-Frame-Options"] == "DENY"
        assert page.response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert "script-src" not in CONTENT_SECURITY_POLICY


def test_the_stylesheet_is_shipped_in_the_package_and_imports_nothing(browser: Client) -> None:
    sheets = get(browser, "/login").tree.xpath("//link[@rel='stylesheet']/@href")
    with browser.get(sheets[0]) as served:
        css = served.get_data(as_text=True)

    assert sheets == [f"{UI}/static/ui.css"]
    assert css == (STATIC / "ui.css").read_text("utf-8")
    assert "url(" not in css
    assert "@import" not in css
    assert sorted(p.name for p in STATIC.iterdir()) == ["favicon.svg", "ui.css"]
