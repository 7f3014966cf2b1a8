"""The classifier simulator's operations, in wire form (JSON types) in and out.

- ClassifyText classifies a document once per DocumentId (scope "document"); a repeated
  DocumentId answers the first result.
- ClassifyBatch answers one result per document, in order; each document is classified once per
  DocumentId, shared with ClassifyText (a repeated one, even within the batch, gets its first
  result). The call counts as a duplicate when every document was answered from before.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from bridge.sims.classifier.rules import ClassifierRules, classify
from bridge.sims.context import Wire
from bridge.sims.records import Call, Recorder


@dataclass(frozen=True)
class Classifier:
    recorder: Recorder
    rules: ClassifierRules

    def classify_text(self, environ: dict[str, Any], request: Wire) -> Wire:
        return self.recorder.once(
            environ,
            "ClassifyText",
            "document",
            request["DocumentId"],
            request,
            lambda call: classify(request, self.rules),
            lambda request, response: {
                "Kind": request["Kind"],
                "Language": request.get("Language"),
                "outcome": f"{response['Label']} {response['Confidence']}",
            },
        )

    def classify_batch(self, environ: dict[str, Any], request: Wire) -> Wire:
        documents = request["Document"]

        def work(call: Call) -> Wire:
            results, replayed = [], 0
            for document in documents:
                result, again = call.once(
                    "ClassifyBatch",
                    "document",
                    document["DocumentId"],
                    document,
                    partial(classify, document, self.rules),
                )
                results.append(result)
                replayed += again
            call.duplicate = replayed == len(documents)
            call.summary = {
                "documents": len(documents),
                "replayed": replayed,
                "outcome": [f"{result['Label']} {result['Confidence']}" for result in results],
            }
            return {"Result": results}

        return self.recorder.transact(environ, "ClassifyBatch", None, work)
