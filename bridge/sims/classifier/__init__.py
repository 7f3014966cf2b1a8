"""The classification simulator (`wsdl/upstream/classifier.wsdl`): deterministic keyword and
entity rules, model version "rules-1", once per DocumentId (`rules`, `service`)."""

from __future__ import annotations

from bridge.sims.assembly import sim_control, simulator
from bridge.sims.classifier.rules import ClassifierRules
from bridge.sims.classifier.service import Classifier
from bridge.sims.context import SimContext, data_file
from bridge.sims.control import SimControl
from bridge.sims.wsgi import Simulator

NAME = "classifier"
KEYS = {"ClassifyText": "DocumentId", "ClassifyBatch": None}

__all__ = ["build", "control"]


def control(ctx: SimContext) -> SimControl:
    return sim_control(ctx, NAME, KEYS)


def build(ctx: SimContext) -> Simulator:
    sim = control(ctx)
    rules = ClassifierRules.from_data(data_file("classifier_rules.yaml"))
    classifier = Classifier(sim.recorder, rules)
    handlers = {
        "ClassifyText": classifier.classify_text,
        "ClassifyBatch": classifier.classify_batch,
    }
    return simulator(NAME, "Classifier", sim, KEYS, ctx=ctx, handlers=handlers)
