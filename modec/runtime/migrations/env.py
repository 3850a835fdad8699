"""Alembic environment of the session schema.

``SessionBindingStore.upgrade()`` runs the migrations on its own connection, inside a
transaction it has already begun (and locked), passed as ``config.attributes["connection"]``;
Alembic then adds no transaction of its own. Run from a plain Alembic ``Config``, the database
is ``sqlalchemy.url``, online or (``--sql``) offline.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from modec.runtime.sessions import Base

target_metadata = Base.metadata


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
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
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
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
