"""Alembic environment: runs on the engine the bridge passes in (no alembic.ini, no URLs here)."""

from __future__ import annotations

from alembic import context

from bridge.store.tables import metadata

# APScheduler owns its job table (issue: its job store pickles state); never autogenerate it.
IGNORED_TABLES = {"apscheduler_jobs"}


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    return not (type_ == "table" and name in IGNORED_TABLES)


# Nodes starting together on PostgreSQL migrate one after the other: the first holds this
# transaction-scoped advisory lock while it migrates, the others then find nothing to do.
MIGRATION_LOCK = 0x627269646765  # "bridge"

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
