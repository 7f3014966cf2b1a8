"""SQLAlchemy Core tables of the bridge; Alembic migrations under `migrations/` create them."""

from __future__ import annotations

from sqlalchemy import MetaData

# Stable constraint names, so migrations are the same on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Simulator state lives in its own module and its own `sim_` tables.
from bridge.store import sim_tables as sim_tables  # noqa: E402
