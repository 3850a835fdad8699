"""Alembic environment of the session schema.

``SessionBindingStore.upgrade()`` runs the migrations on its own connection, inside a
transaction it has already begun (and locked), passed as ``config.attributes["connection"]``,
with its tables (prefix and schema) as ``config.attributes["modec_tables"]``; Alembic then
adds no transaction of its own. Run from a plain Alembic ``Config``, the database is
``sqlalchemy.url``, online or (``--sql``) offline, and the names come from ``-x
table_prefix=… -x schema=…`` (see :mod:`modec.runtime.migrations.naming`).

Alembic's version table is ``<prefix>alembic_version`` in the tables' schema, so a host that
runs Alembic itself in the same database keeps its own ``alembic_version``; only modec's
tables are compared or touched (``include_name``).
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from modec.runtime.migrations.naming import migration_tables


def _options() -> dict[str, Any]:
    names = migration_tables()

    def include_name(name: str | None, kind: str, _parents: Any) -> bool:
        return kind != "table" or name in names.names

    return {
        "target_metadata": names.metadata,
        "version_table": names.version_table,
        "version_table_schema": names.schema,
        "include_name": include_name,
    }


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        **_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _migrate(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url, or pass a connection in config.attributes")
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **_options())
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            _migrate(conn)
    finally:
        engine.dispose()


# Alembic executes this file with its context installed; importing it anywhere else (doctest
# collection, tooling) must do nothing.
if getattr(context, "_proxy", None) is not None:
    run()
