"""`POST /oauth/token`: the OAuth2 token endpoint (RFC 6749), client credentials and refresh.

The body is `application/x-www-form-urlencoded`, as RFC 6749 requires; the client authenticates
with HTTP Basic (id and secret form-urlencoded first, RFC 6749 2.3.1) or with `client_id` and
`client_secret` in the body, never both. Errors are not problem+json but RFC 6749 5.2's
`{"error": ..., "error_description": ...}`, because OAuth client libraries parse exactly that;
`oauth_error()` is the one place they are written. Nothing here is cached (`no-store`).

Wrong secrets are throttled per client id and per source address (`bridge.security.throttle`):
over the limit, the endpoint answers 429 `temporarily_unavailable` with ``Retry-After`` and
does not check the secret at all, so a right guess during the lock-out gets no token either.

The registry and the key ring are the bridge's own (`Bridge.security`), built at start-up.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

import orjson
from flask import Response, request
from pydantic import BaseModel, ConfigDict, Field

from bridge.domain.errors import (
    InvalidClient,
    InvalidRequest,
    OAuthError,
    UnsupportedGrantType,
)
from bridge.rest.auth import DOOR, open_access, source
from bridge.rest.blueprint import resource
from bridge.rest.openapi import responses
from bridge.rest.wire import bridge
from bridge.security import Security
from bridge.security.access import PRINCIPAL_KEY, Principal
from bridge.security.clients import ApiClient, parse_scopes
from bridge.security.throttle import TooManyFailures

FORM = "application/x-www-form-urlencoded"
REALM = 'Basic realm="bridge"'
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
GRANT_TYPES = ("client_credentials", "refresh_token")
# RFC 6749 4.1.2.1's code for "try again later", which OAuth client libraries know.
TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"
# RFC 6749 3.2: "parameters sent without a value MUST be treated as if they were omitted",
# and no parameter may appear twice.
PARAMETERS = ("grant_type", "scope", "refresh_token", "client_id", "client_secret")

oauth = resource("oauth", __name__, "OAuth2 access tokens (RFC 6749)", url_prefix="/oauth")


class TokenResponse(BaseModel):
    """RFC 6749 5.1: a bearer access token (a JWT), its lifetime, scope and refresh token."""

    model_config = ConfigDict(extra="forbid")

    access_token: str
    token_type: str = Field(description="Always `Bearer`")
    expires_in: int = Field(description="Seconds the access token is valid for")
    scope: str = Field(description="Space-separated scopes granted")
    refresh_token: str = Field(description="Single use: each use returns a new one")


class OAuthErrorResponse(BaseModel):
    """RFC 6749 5.2: why the token request was refused."""

    model_config = ConfigDict(extra="forbid")

    error: str = Field(
        description="invalid_request, invalid_client, invalid_grant, invalid_scope, "
        "unsupported_grant_type, or temporarily_unavailable (429: too many wrong secrets)"
    )
    error_description: str | None = None


_FORM_SCHEMA = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": list(GRANT_TYPES)},
        "scope": {"type": "string", "description": "Space-separated subset of your scopes"},
        "refresh_token": {"type": "string", "description": "For grant_type=refresh_token"},
        "client_id": {"type": "string", "description": "When not using HTTP Basic"},
        "client_secret": {"type": "string", "description": "When not using HTTP Basic"},
    },
}


@oauth.post(
    "/token",
    operation_id="issueToken",
    summary="Obtain an access token",
    description="Client credentials or refresh token grant (RFC 6749 4.4 and 6). Authenticate "
    "with HTTP Basic or `client_id`/`client_secret` in the form. Every refresh token is single "
    "use; presenting one a second time revokes all tokens descended from the same grant.",
    responses={
        **responses(200, {"description": "Bearer token", "content": {}}, problems=()),
        200: TokenResponse,
        400: OAuthErrorResponse,
        401: OAuthErrorResponse,
        429: OAuthErrorResponse,
    },
    openapi_extensions={
        "requestBody": {"required": True, "content": {FORM: {"schema": _FORM_SCHEMA}}}
    },
)
@open_access
def issue_token() -> Response:
    try:
        form = _form()
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise InvalidRequest("grant_type is required")
        if grant_type not in GRANT_TYPES:
            raise UnsupportedGrantType(f"grant_type must be one of {', '.join(GRANT_TYPES)}")
        services = security()
        client = _authenticate(services, form)
        # The token endpoint's caller, for the audit row of this request, whatever follows.
        request.environ[PRINCIPAL_KEY] = Principal(client, client.scopes, "client_secret")
        scopes = parse_scopes(form["scope"]) if "scope" in form else None
        if grant_type == "client_credentials":
            grant = services.tokens.grant(client, scopes)
        else:
            if "refresh_token" not in form:
                raise InvalidRequest("refresh_token is required")
            grant = services.tokens.refresh(form["refresh_token"], client, scopes)
    except OAuthError as error:
        return oauth_error(error)
    except TooManyFailures as refused:
        return throttled(refused)
    body = {
        "access_token": grant.access_token,
        "token_type": grant.token_type,
        "expires_in": grant.expires_in,
        "scope": grant.scope,
        "refresh_token": grant.refresh_token,
    }
    return Response(orjson.dumps(body), status=200, headers=NO_STORE, mimetype="application/json")


def oauth_error(error: OAuthError) -> Response:
    """RFC 6749 5.2. `invalid_client` is a 401 with a challenge, every other refusal a 400."""
    headers = dict(NO_STORE)
    status = 400
    if isinstance(error, InvalidClient):
        status = 401
        headers["WWW-Authenticate"] = REALM
    body = {"error": error.error, "error_description": error.detail}
    return Response(orjson.dumps(body), status=status, headers=headers, mimetype="application/json")


def throttled(error: TooManyFailures) -> Response:
    """Too many wrong secrets lately (`bridge.security.throttle`): 429 with ``Retry-After``, in
    RFC 6749 5.2's form, with the registered error code for "try again later"."""
    headers = {**NO_STORE, "Retry-After": str(error.retry_after)}
    body = {"error": TEMPORARILY_UNAVAILABLE, "error_description": error.detail}
    return Response(orjson.dumps(body), status=429, headers=headers, mimetype="application/json")


def security() -> Security:
    """This bridge's registry and token service."""
    return bridge().security


def _form() -> dict[str, str]:
    if request.mimetype != FORM:
        raise InvalidRequest(f"the body must be {FORM}")
    form: dict[str, str] = {}
    for name in PARAMETERS:
        values = [value for value in request.form.getlist(name) if value != ""]
        if len(values) > 1:
            raise InvalidRequest(f"{name} is given more than once")
        if values:
            form[name] = values[0]
    return form


def _authenticate(services: Security, form: dict[str, str]) -> ApiClient:
    header = request.headers.get("Authorization")
    if header is not None:
        if "client_secret" in form:
            raise InvalidRequest("authenticate with HTTP Basic or client_secret, not both")
        client_id, secret = _basic(header)
        if "client_id" in form and form["client_id"] != client_id:
            raise InvalidRequest("client_id differs from the HTTP Basic user")
    elif "client_id" in form and "client_secret" in form:
        client_id, secret = form["client_id"], form["client_secret"]
    else:
        raise InvalidClient("client authentication is required")
    with services.attempt(DOOR, source(), client_id):
        return services.clients.authenticate(client_id, secret)


def _basic(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient("use HTTP Basic authentication")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("the Basic credentials are not readable") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InvalidClient("the Basic credentials are not readable")
    return unquote_plus(client_id), unquote_plus(secret)
