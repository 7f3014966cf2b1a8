"""The classification simulator (`wsdl/upstream/classifier.wsdl`): deterministic keyword and
entity rules, model version "rules-1", once per DocumentId (`rules`, `service`)."""

from __future__ import annotations

from bridge.sims.classifier import models as m
from bridge.sims.classifier.rules import ClassifierRules
from bridge.sims.classifier.service import Classifier
from bridge.sims.context import SimContext, data_file
from bridge.sims.contract import load_contract
from bridge.sims.control import SimControl
from bridge.sims.faults import FaultQueue
from bridge.sims.records import Recorder
from bridge.sims.soap import Operation, soap_application
from bridge.sims.wsgi import Simulator

NAME = "classifier"
KEYS = {"ClassifyText": "DocumentId", "ClassifyBatch": None}

__all__ = ["build", "control"]


def control(ctx: SimContext) -> SimControl:
    return SimControl(
        NAME,
        Recorder(ctx.engine, NAME, ctx.clock),
        FaultQueue(ctx.engine, NAME, ctx.clock, operations=frozenset(KEYS)),
    )


def build(ctx: SimContext) -> Simulator:
    address = ctx.address(NAME)
    contract = load_contract(NAME, address)
    sim_control = control(ctx)
    classifier = Classifier(
        sim_control.recorder, ClassifierRules.from_data(data_file("classifier_rules.yaml"))
    )
    operations = [
        Operation(
            "ClassifyText", m.ClassifyTextRequest, m.ClassifyTextResult, classifier.classify_text
        ),
        Operation(
            "ClassifyBatch",
            m.ClassifyBatchRequest,
            m.ClassifyBatchResult,
            classifier.classify_batch,
        ),
    ]
    soap = soap_application("Classifier", contract.namespace, address, operations)
    return Simulator(NAME, contract, soap, sim_control, KEYS)
