"""Tables of API clients and their credentials (`bridge.security`).

- `api_clients`: who may call, with which tier, scopes and rate-limit plan; the secret only as an
  argon2 hash.
- `api_keys`: the `X-API-Key` alternative; a short public prefix to find the row, the key itself
  only as a SHA-256 digest.
- `refresh_tokens`: opaque refresh tokens as SHA-256 digests, grouped in families (one family per
  client-credentials grant) so that reusing a spent token can revoke every token it led to.
- `wss_nonces`: WS-Security UsernameToken nonces seen lately, by a digest of (client, nonce);
  the primary key refuses a second use while the row lives (`bridge.security.nonces`).

A client's WS-Security password is the one secret kept readable (sealed with AES-GCM, see
`bridge.security.sealing`): a PasswordDigest can only be checked with the password itself.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, String, Table, Text

from bridge.store.tables import metadata

api_clients = Table(
    "api_clients",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("tier", String(8), nullable=False),  # public | partner | private
    Column("scopes", Text, nullable=False),  # space-separated, as in an OAuth scope parameter
    Column("plan", String(32), nullable=False),  # the rate-limit plan's name
    Column("organisation", String(100)),  # the partner organisation; None for our own clients
    Column("secret_hash", String(255), nullable=False),  # argon2id, PHC string format
    Column("active", Boolean, nullable=False),
    Column("wss_password", Text),  # sealed (AES-GCM, v1.<base64>); None: no WS-Security
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("prefix", String(16), primary_key=True),  # public: printed in lists and logs
    Column("client_id", String(64), ForeignKey("api_clients.id"), nullable=False, index=True),
    Column("key_hash", String(64), nullable=False),  # hex SHA-256 of the whole key
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # hex SHA-256 of the token
    Column("family_id", String(36), nullable=False, index=True),
    Column("client_id", String(64), ForeignKey("api_clients.id"), nullable=False, index=True),
    Column("scope", Text, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),  # exchanged for a new pair; a second use is theft
    Column("revoked_at", DateTime(timezone=True)),
)

wss_nonces = Table(
    "wss_nonces",
    metadata,
    Column("nonce_hash", String(64), primary_key=True),  # hex SHA-256 of client id and nonce
    Column("seen_at", DateTime(timezone=True), nullable=False),
    # seen_at + the freshness window + clock skew: no Created that old is accepted any more.
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)
