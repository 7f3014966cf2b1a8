"""`POST /api/v1/services/<name>/<operation>`: every operation of every imported service, as JSON.

One route per operation, made at start-up from the catalog (a plain Flask blueprint, since
flask-openapi3 documents a route from Python models and these come from an XSD): each declares
its access like every route (`bridge.rest.auth`): the operation's own scope if its import file
names one, else the service's `<name>:call`, for the tiers of its import file. A service or
operation that does not exist has no route: a 404 problem.

The body is the operation's input in the generic JSON form (`bridge.mapping.generic`), read with
the door's limits (size, nesting, each key once) and with decimals parsed exactly: a JSON number
with a fraction arrives as a `Decimal`, never as a float. The answer is the output in the same
form, or 204 for a one-way operation. Errors are problems (`bridge.rest.problems`): a field the
contract refuses is a 400 naming it before anything is sent; a fault the contract declares is
its own problem type, `.../problems/services/<name>/<Fault>`, carrying the fault's detail as
JSON; an unavailable upstream or an unknown outcome is a 503 with Retry-After.

`document(services)` writes each operation into the OpenAPI document: the request and response
JSON Schemas of its codecs, its declared faults and its access (`bridge.rest.openapi.publish`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson
from flask import Blueprint, Response

from bridge.rest.auth import ACCESS_ATTRIBUTE
from bridge.rest.problems import MEDIA_TYPE, PROBLEM_TYPES, InvalidJson
from bridge.rest.schemas import JSON, REF_TEMPLATE, json_request_data
from bridge.rest.wire import correlation_id
from bridge.security.access import Scopes
from bridge.services.imported import ImportedServices, Service

PREFIX = "/api/v1/services"
TAG = "services"


def path_of(service: str, operation: str) -> str:
    return f"{PREFIX}/{service}/{operation}"


def fault_type(service: str, fault: str) -> str:
    """The problem type of a declared fault: clients branch on it."""
    return f"{PROBLEM_TYPES}services/{service}/{fault}"


def services_blueprint(services: ImportedServices, scopes: Scopes) -> Blueprint:
    """One route per imported operation, each declaring its own access (its scope one of the
    app's `scopes`)."""
    blueprint = Blueprint(TAG, __name__)
    for service in services:
        for operation in service.imported.contract.operations:
            view = _view(services, service.name, operation)
            setattr(view, ACCESS_ATTRIBUTE, scopes.allow(service.scope(operation), service.tiers))
            blueprint.add_url_rule(
                path_of(service.name, operation),
                endpoint=f"{service.name}/{operation}".replace(".", ":"),
                view_func=view,
                methods=["POST"],
            )
    return blueprint


def _view(services: ImportedServices, name: str, operation: str) -> Callable[[], Response]:
    def call_operation() -> Response:
        answer = services.call(name, operation, read_json(), correlation_id=correlation_id())
        if answer is None:
            return Response(status=204)
        return Response(dumps(answer), status=200, mimetype=JSON)

    call_operation.__name__ = f"call_{name}_{operation}"
    return call_operation


def read_json() -> Any:
    """The body as JSON: media type, size and nesting checked, each key once, fractions read
    as `Decimal` (exact), NaN and Infinity refused."""
    data = json_request_data()
    try:
        return json.loads(data, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJson(f"the body is not valid JSON: {exc}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def dumps(answer: Any) -> bytes:
    """orjson, or the standard library for what orjson cannot write (integers beyond 64 bits,
    which xs:integer allows)."""
    try:
        return orjson.dumps(answer, default=str)
    except orjson.JSONEncodeError:
        return json.dumps(answer, default=str, ensure_ascii=False).encode()


# -- the OpenAPI document -----------------------------------------------------------------------


def document(services: ImportedServices) -> Callable[[dict[str, Any]], None]:
    """For `publish(app, paths=...)`: adds every imported operation to the document. Access,
    401/403/429 and the door's limits are added by `publish` from the routes' declarations."""

    def add(spec: dict[str, Any]) -> None:
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        paths = spec.setdefault("paths", {})
        if len(services):
            spec.setdefault("tags", []).append(
                {"name": TAG, "description": "Imported SOAP services, as JSON"}
            )
        for service in services:
            for name, operation in service.imported.contract.operations.items():
                paths[path_of(service.name, name)] = {
                    "post": _operation(schemas, service, name, operation)
                }

    return add


def _operation(
    schemas: dict[str, Any], service: Service, name: str, operation: Any
) -> dict[str, Any]:
    prefix = f"{_component_name(service.name)}.{_component_name(name)}"
    request_schema = _component(schemas, f"{prefix}.input", service.codec(name, "input"))
    answers: dict[str, Any] = {}
    if operation.output is None:
        answers["204"] = {"description": "Accepted by the service (a one-way operation)"}
    else:
        response_schema = _component(schemas, f"{prefix}.output", service.codec(name, "output"))
        answers["200"] = {
            "description": "The operation's output",
            "content": {JSON: {"schema": response_schema}},
        }
    answers["400"] = _problem("A field the contract refuses, named; nothing was sent")
    answers["415"] = _problem("The body is not application/json")
    faults = [
        _fault_schema(schemas, service, name, fault.name, f"{prefix}.{fault.name}")
        for fault in operation.faults
    ]
    if faults:
        answers["422"] = {
            "description": "The service answered with a fault its contract declares; `type` "
            "names it, `fault_detail` is its detail (502 when the service blames itself)",
            "content": {MEDIA_TYPE: {"schema": {"oneOf": faults}}},
        }
    answers["502"] = _problem("The service refused the request (a Client fault)")
    answers["503"] = _problem(
        "The service is unavailable, or did not say what became of the request: retry after "
        "the seconds in Retry-After",
        retry_after=True,
    )
    answers["500"] = _problem("An unexpected error; the problem carries the correlation id")
    documentation = operation.documentation.strip()
    return {
        "tags": [TAG],
        "operationId": f"{service.name}.{name}",
        "summary": f"{name} of the imported service {service.name}",
        "description": (documentation + "\n\n" if documentation else "")
        + ("Retried after a transient failure (marked safe)." if service.safe(name) else ""),
        "requestBody": {
            "description": f"The input of {name}, as JSON",
            "required": True,
            "content": {JSON: {"schema": request_schema}},
        },
        "responses": answers,
    }


def _fault_schema(
    schemas: dict[str, Any], service: Service, operation: str, fault: str, component: str
) -> dict[str, Any]:
    detail = _component(schemas, component, service.codec(operation, fault))
    return {
        "type": "object",
        "required": ["type", "title", "status", "detail", "fault", "fault_detail"],
        "properties": {
            "type": {"const": fault_type(service.name, fault)},
            "title": {"type": "string"},
            "status": {"type": "integer", "enum": [422, 502]},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "correlation_id": {"type": "string"},
            "fault": {"const": fault},
            "fault_detail": detail,
        },
    }


def _problem(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {MEDIA_TYPE: {"schema": {"$ref": REF_TEMPLATE.format(model="Problem")}}},
    }
    if retry_after:
        answer["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer"},
            }
        }
    return answer


def _component(schemas: dict[str, Any], name: str, codec: Any) -> dict[str, Any]:
    """The codec's JSON Schema as component `name`, its `$defs` hoisted beside it (a
    `$ref` into `$defs` resolves against the document's root, not the component)."""
    schema = dict(codec.json_schema())
    schema.pop("$schema", None)
    definitions = schema.pop("$defs", {})
    renamed = {key: f"{name}.{_component_name(key)}" for key in definitions}

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                target = renamed.get(ref.removeprefix("#/$defs/"))
                if target is not None:
                    node = {**node, "$ref": REF_TEMPLATE.format(model=target)}
            return {key: rewrite(value) for key, value in node.items()}
        if isinstance(node, list):
            return [rewrite(value) for value in node]
        return node

    for key, definition in definitions.items():
        schemas[renamed[key]] = rewrite(definition)
    schemas[name] = rewrite(schema)
    return {"$ref": REF_TEMPLATE.format(model=name)}


def _component_name(text: str) -> str:
    """OpenAPI component names are `[A-Za-z0-9._-]+`."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in text)
