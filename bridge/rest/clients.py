"""`/api/v1/clients`: API clients and their credentials, for our own operators. What
`bridge clients` does on a node's command line, over HTTP:

    GET  /clients                          every client (never a secret)
    POST /clients                          register one; answers its secret, once (201)
    GET  /clients/{client_id}              one client
    POST /clients/{client_id}/secret       a new client secret; the old one stops working
    POST /clients/{client_id}/api-keys     a new API key (201); older keys keep working
    POST /clients/{client_id}/wss-password a new WS-Security password; the old one stops working
    POST /clients/{client_id}/disable      refuse the client from now on
    GET  /clients/{client_id}/accounts     the accounts it reads statements of
    POST /clients/{client_id}/accounts     link one (to it, or to its organisation) (201)
    DELETE /clients/{client_id}/accounts/{account}  unlink one (204)

Every route is for private clients holding `clients:admin`. A secret, key or password is in
the answer of the request that made it and nowhere else: answers are `Cache-Control: no-store`,
and these POSTs take no `Idempotency-Key`, because a replayable answer would be a stored copy of
the secret. Retrying one is harmless but for its result: the credential of the first attempt is
simply replaced (or, for API keys, left unused). Each change is also an "admin" entry in the
audit log, without the secret.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Literal, TypeVar, cast

from flask import Response, url_for
from flask_openapi3.types import ResponseDict
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bridge.domain.errors import MappingError
from bridge.observability.audit import mask_account
from bridge.rest.audit import record_admin_action
from bridge.rest.auth import protect
from bridge.rest.blueprint import resource
from bridge.rest.openapi import responses
from bridge.rest.params import Parameters
from bridge.rest.schemas import JSON, JsonBody
from bridge.rest.wire import bridge
from bridge.security.clients import ApiClient, ClientRegistry, Tier
from bridge.security.links import AccountLink
from bridge.settings import DEFAULT_PLAN

clients = resource("clients", __name__, "API clients and their credentials (operators only)")

ADMIN_SCOPE = "clients:admin"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class ClientPath(Parameters):
    client_id: str = Field(min_length=1, max_length=64, description="The client's id")


class NewClient(BaseModel):
    """A client to register. `scopes` are what it may ever be granted (the scopes of
    `/oauth/token` and of API keys); `organisation` is the partner it belongs to."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="Who the client is")
    tier: Tier = Field(description="public, partner or private")
    # At most as many as the app knows, each one of them: checked against the app's registry
    # (`Security.scopes`, which the imported services add to), not at import.
    scopes: list[str] = Field(default_factory=list, description="Scopes it may be granted")
    plan: str = Field(
        default=DEFAULT_PLAN,
        min_length=1,
        max_length=32,
        description="Rate-limit plan: standard, enterprise or internal",
    )
    organisation: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The partner organisation; ownership checks compare it",
    )


def _described(description: str) -> ConfigDict:
    """How flask-openapi3 takes a response's description from the model that answers it."""
    return cast(ConfigDict, {"extra": "forbid", "openapi_extra": {"description": description}})


class ClientView(BaseModel):
    """An API client, as operators see it: never a secret."""

    model_config = _described("The client")

    id: str
    name: str
    tier: Tier
    scopes: list[str]
    plan: str
    organisation: str | None = None
    active: bool

    @field_validator("scopes", mode="before")
    @classmethod
    def _sorted(cls, scopes: Iterable[str]) -> list[str]:
        """A client holds its scopes as a set: shown in one order, always."""
        return sorted(scopes)


class ClientList(BaseModel):
    model_config = _described("Every client, oldest first")

    clients: list[ClientView]


class CreatedClient(BaseModel):
    """The new client and its secret (for `/oauth/token`), shown this once."""

    model_config = _described("Registered; the secret is shown this once")

    client: ClientView
    client_secret: str


class ClientSecret(BaseModel):
    """A new client secret, shown this once; the previous one no longer works."""

    model_config = _described("The new secret, shown this once")

    client_id: str
    client_secret: str


class IssuedApiKey(BaseModel):
    """A new API key (`X-API-Key`), shown this once."""

    model_config = _described("The new key, shown this once")

    client_id: str
    api_key: str


class IssuedWssPassword(BaseModel):
    """A new WS-Security UsernameToken password, shown this once; `username` is what the token
    carries as its Username (the client id). The previous password no longer works."""

    model_config = _described("The new password, shown this once")

    client_id: str
    username: str
    wss_password: str


class NewAccountLink(BaseModel):
    """An account whose statements the client (or its organisation) may read."""

    model_config = ConfigDict(extra="forbid")

    account: str = Field(
        pattern=r"^[A-Za-z0-9]{1,34}$",
        description="IBAN or other account identifier, as core banking names it",
    )
    organisation: bool = Field(
        default=False,
        description="Link to the client's organisation: every client of it reads the account",
    )


class AccountLinkView(BaseModel):
    """An account a client reads statements of, and whose link lets it."""

    model_config = _described("The link")

    account: str
    holder_kind: Literal["client", "organisation"]
    holder: str = Field(description="The client id, or the organisation")
    created_at: datetime


class AccountLinkList(BaseModel):
    model_config = _described("The client's links and its organisation's")

    links: list[AccountLinkView]


class AccountLinkPath(ClientPath):
    account: str = Field(
        pattern=r"^[A-Za-z0-9]{1,34}$", description="IBAN or other account identifier"
    )


class UnlinkParams(Parameters):
    organisation: bool = Field(
        default=False, description="Remove the organisation's link, not the client's own"
    )


NEW_CLIENT = JsonBody(NewClient)
NEW_ACCOUNT_LINK = JsonBody(NewAccountLink)


View = TypeVar("View", bound=Callable[..., Response])


def _admin(
    method: Literal["get", "post", "delete"],
    rule: str,
    *,
    answer: ResponseDict,
    body: tuple[str, type[BaseModel]] | None = None,
    **doc: str,
) -> Callable[[View], View]:
    """A route of this blueprint, for private clients holding `clients:admin` only. `answer`
    documents its responses, `body` its JSON request body (description, model), `doc` its
    operation_id, summary and description."""
    if body is not None:
        described, model = body
        schema = {
            "description": described,
            "required": True,
            "content": {JSON: {"schema": model.model_json_schema()}},
        }
        route = getattr(clients, method)(
            rule, responses=answer, openapi_extensions={"requestBody": schema}, **doc
        )
    else:
        route = getattr(clients, method)(rule, responses=answer, **doc)

    def admin(view: View) -> View:
        return cast(View, route(protect(ADMIN_SCOPE, "private")(view)))

    return admin


def _answer(status: int, model: type[BaseModel], *problems: int) -> ResponseDict:
    """`model` answers with `status` (its description from its config); the problems."""
    documented = responses(status, {}, problems=(400, *problems))
    documented[status] = model
    return documented


@_admin(
    "get",
    "/clients",
    operation_id="listClients",
    summary="List the API clients",
    description="Every client, oldest first, with its tier, scopes, plan, organisation and "
    "state. Secrets, API keys and WS-Security passwords are never shown.",
    answer=_answer(200, ClientList),
)
def list_clients() -> Response:
    found = [_view(client) for client in _registry().list()]
    return _json(ClientList(clients=found), 200)


@_admin(
    "post",
    "/clients",
    operation_id="createClient",
    summary="Register an API client",
    description="Answers the client and its secret. The secret is shown only in this answer: "
    "store it where the client reads it. Scopes must be ones the bridge knows.",
    answer=_answer(201, CreatedClient, 415, 422),
    body=("The client to register", NewClient),
)
def create_client() -> Response:
    body = NEW_CLIENT.read()
    known = bridge().security.scopes
    if len(body.scopes) > len(known):
        raise MappingError("scopes", f"at most {len(known)} scopes, each once")
    for index, scope in enumerate(body.scopes):
        if scope not in known:
            raise MappingError(f"scopes[{index}]", f"one of {', '.join(known)}", scope)
    client, secret = _registry().create(
        body.name, body.tier, body.scopes, plan=body.plan, organisation=body.organisation
    )
    record_admin_action("client create", resource_id=client.id, detail=f"tier {client.tier}")
    location = url_for("clients.get_client", client_id=client.id)
    return _json(
        CreatedClient(client=_view(client), client_secret=secret), 201, {"Location": location}
    )


@_admin(
    "get",
    "/clients/<client_id>",
    operation_id="getClient",
    summary="Read an API client",
    answer=_answer(200, ClientView, 404),
)
def get_client(path: ClientPath) -> Response:
    return _json(_view(_registry().get(path.client_id)), 200)


@_admin(
    "post",
    "/clients/<client_id>/secret",
    operation_id="rotateClientSecret",
    summary="Replace a client's secret",
    description="The old secret stops working at once; tokens already issued run to their "
    "expiry. The new secret is shown only in this answer.",
    answer=_answer(200, ClientSecret, 404),
)
def rotate_client_secret(path: ClientPath) -> Response:
    secret = _registry().rotate_secret(path.client_id)
    return _issued(
        path, "rotate-secret", ClientSecret(client_id=path.client_id, client_secret=secret)
    )


@_admin(
    "post",
    "/clients/<client_id>/api-keys",
    operation_id="createApiKey",
    summary="Issue an API key",
    description="A new key for the `X-API-Key` header, with the client's scopes. Keys already "
    "issued keep working until the client is disabled. Shown only in this answer.",
    answer=_answer(201, IssuedApiKey, 404),
)
def create_api_key(path: ClientPath) -> Response:
    key = _registry().create_api_key(path.client_id)
    return _issued(path, "api-key", IssuedApiKey(client_id=path.client_id, api_key=key), 201)


@_admin(
    "post",
    "/clients/<client_id>/wss-password",
    operation_id="createWssPassword",
    summary="Issue a WS-Security password",
    description="The password of the client's WS-Security UsernameToken on the SOAP doors "
    "(Username: the client id; PasswordDigest). The previous password stops working at once. "
    "Shown only in this answer.",
    answer=_answer(200, IssuedWssPassword, 404),
)
def create_wss_password(path: ClientPath) -> Response:
    password = _registry().create_wss_password(path.client_id)
    answer = IssuedWssPassword(
        client_id=path.client_id, username=path.client_id, wss_password=password
    )
    return _issued(path, "wss-password", answer)


@_admin(
    "post",
    "/clients/<client_id>/disable",
    operation_id="disableClient",
    summary="Disable an API client",
    description="Refuses the client from now on: its secret, API keys and WS-Security password "
    "stop working and its refresh tokens are revoked. Access tokens already issued are "
    "refused within seconds. Disabling a disabled client changes nothing.",
    answer=_answer(200, ClientView, 404),
)
def disable_client(path: ClientPath) -> Response:
    registry = _registry()
    registry.disable(path.client_id)
    # This node stops trusting its cached copy at once; other nodes within their cache ttl.
    bridge().security.authenticator.forget()
    record_admin_action("client disable", resource_id=path.client_id)
    return _json(_view(registry.get(path.client_id)), 200)


@_admin(
    "get",
    "/clients/<client_id>/accounts",
    operation_id="listAccountLinks",
    summary="List the accounts a client reads statements of",
    description="Its own links and its organisation's. A private client reads every account "
    "without links; a public client reads none.",
    answer=_answer(200, AccountLinkList, 404),
)
def list_account_links(path: ClientPath) -> Response:
    links = bridge().security.links.of(_registry().get(path.client_id))
    return _json(AccountLinkList(links=[_link_view(link) for link in links]), 200)


@_admin(
    "post",
    "/clients/<client_id>/accounts",
    operation_id="linkAccount",
    summary="Let a client read an account's statements",
    description="Links the account to the client, or with `organisation: true` to the "
    "client's organisation, so that every client of it reads the account. An account already "
    "linked so is a 409.",
    answer=_answer(201, AccountLinkView, 404, 409, 415, 422),
    body=("The account to link", NewAccountLink),
)
def link_account(path: ClientPath) -> Response:
    body = NEW_ACCOUNT_LINK.read()
    link = bridge().security.links.link(
        _registry().get(path.client_id), body.account, organisation=body.organisation
    )
    record_admin_action(
        "client link-account",
        resource_id=path.client_id,
        detail=f"account {mask_account(link.account)} to {link.holder_kind} {link.holder}",
    )
    return _json(_link_view(link), 201)


@_admin(
    "delete",
    "/clients/<client_id>/accounts/<account>",
    operation_id="unlinkAccount",
    summary="Stop a client reading an account's statements",
    description="Removes the client's own link, or with `organisation=true` its "
    "organisation's. Takes effect at once on every node.",
    answer=responses(204, {"description": "Unlinked", "content": {}}, problems=(400, 404, 422)),
)
def unlink_account(path: AccountLinkPath, query: UnlinkParams) -> Response:
    bridge().security.links.unlink(
        _registry().get(path.client_id), path.account, organisation=query.organisation
    )
    record_admin_action(
        "client unlink-account",
        resource_id=path.client_id,
        detail=f"account {mask_account(path.account)}"
        + (" from its organisation" if query.organisation else ""),
    )
    return Response(status=204, headers=NO_STORE)


def _issued(path: ClientPath, action: str, answer: BaseModel, status: int = 200) -> Response:
    """The answer carrying a credential just issued; the audit entry says so, without it."""
    record_admin_action(f"client {action}", resource_id=path.client_id)
    return _json(answer, status)


def _registry() -> ClientRegistry:
    return bridge().security.clients


def _link_view(link: AccountLink) -> AccountLinkView:
    return AccountLinkView.model_validate(link, from_attributes=True)


def _view(client: ApiClient) -> ClientView:
    return ClientView.model_validate(client, from_attributes=True)


def _json(model: BaseModel, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(
        model.model_dump_json(),
        status=status,
        headers={**NO_STORE, **(headers or {})},
        mimetype=JSON,
    )
