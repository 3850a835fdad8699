"""Alembic migrations of the session schema, run by ``SessionBindingStore.upgrade()``.

To add a revision after changing :func:`modec.runtime.sessions.schema.tables`, autogenerate it
against a scratch database that is at the current head, then review it by hand::

    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "modec/runtime/migrations")
    cfg.set_main_option("sqlalchemy.url", "sqlite:////tmp/modec-scratch.db")
    command.upgrade(cfg, "head")
    command.revision(cfg, message="what changed", autogenerate=True, rev_id="0002")

then name every table, index and constraint through
:func:`~modec.runtime.migrations.naming.migration_tables` (as 0001 and 0002 do), so the
revision honours the store's table prefix and schema. What a released revision does to a
database is never changed; ``tests/integration/test_sessions.py`` and
``tests/integration/test_shared_database.py`` check that the migrated schema matches the
tables, unprefixed and prefixed.
"""
