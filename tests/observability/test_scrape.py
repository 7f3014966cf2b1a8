"""What /metrics reads at scrape time: the outbox families from the callable the composition root
hands in (the sync read model's depth by job), answered even while the database is away."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families
from werkzeug.test import Client

from bridge.observability.metrics import OutboxCollector, metrics_app

DEPTH = {
    "payroll": {"pending": 2, "claimed": 0, "delivered": 5, "dead": 1},
    "shipments": {"pending": 0, "claimed": 0, "delivered": 0, "dead": 0},
}


def samples(collector: OutboxCollector) -> dict[str, dict[tuple[str, ...], float]]:
    """{family: {label values: value}} of one collection."""
    return {
        family.name: {tuple(sample.labels.values()): sample.value for sample in family.samples}
        for family in collector.collect()
    }


def unreachable() -> Mapping[str, Mapping[str, int]]:
    raise ConnectionError("the database is away")


def test_the_outbox_families_give_every_job_and_state_they_are_handed() -> None:
    found = samples(OutboxCollector(lambda: DEPTH))

    assert found["bridge_outbox_rows"][("payroll", "delivered")] == 5
    assert found["bridge_outbox_rows"][("shipments", "dead")] == 0
    assert len(found["bridge_outbox_rows"]) == 8
    assert found["bridge_dead_letters"] == {("payroll",): 1, ("shipments",): 0}


def test_a_scrape_while_the_database_is_away_answers_the_families_without_samples() -> None:
    assert samples(OutboxCollector(unreachable)) == {
        "bridge_outbox_rows": {},
        "bridge_dead_letters": {},
    }


def test_the_metrics_app_serves_the_collectors_it_is_given() -> None:
    response = Client(metrics_app(OutboxCollector(lambda: DEPTH))).get("/")

    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    assert response.status_code == 200
    [dead] = families["bridge_dead_letters"].samples[:1]
    assert (dead.labels, dead.value) == ({"job": "payroll"}, 1)
    # declared before anything is counted (with a zero), so an alert on a rise sees it
    refusals = {
        (sample.labels["door"], sample.labels["reason"])
        for sample in families["bridge_auth_failures"].samples
    }
    assert ("soap", "replayed") in refusals
