"""Why a credential was refused. The names are RFC 6749 section 5.2's error codes, so the token
endpoint (`bridge.rest.oauth`) turns them into its wire form in one function, and the doors that
check bearer tokens and API keys later can map `AuthenticationFailed` to 401 the same way.

    BridgeError
    └── AuthenticationFailed        a credential was refused
        ├── InvalidToken            an access token or API key is bad, expired or revoked
        └── OAuthError              the token endpoint refused a request (RFC 6749 5.2)
            ├── InvalidRequest      malformed: a parameter missing, repeated or unreadable
            ├── InvalidClient       unknown client, wrong secret, or a disabled client
            ├── InvalidGrant        refresh token unknown, expired, revoked or reused
            ├── InvalidScope        asked for a scope the client does not hold
            └── UnsupportedGrantType
"""

from __future__ import annotations

from bridge.domain.errors import BridgeError


class AuthenticationFailed(BridgeError):
    kind = "authentication-failed"


class InvalidToken(AuthenticationFailed):
    kind = "invalid-token"


class OAuthError(AuthenticationFailed):
    """`error` is the RFC 6749 code; `detail` becomes `error_description`, so it must never say
    which half of a credential was wrong."""

    kind = "oauth-error"
    error = "invalid_request"


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    error = "invalid_client"


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"
