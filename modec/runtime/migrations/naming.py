"""The names a running migration creates: modec's tables under the store's prefix and schema.

``SessionBindingStore.upgrade()`` passes its :class:`~modec.runtime.sessions.schema.Tables`
as ``config.attributes["modec_tables"]``; run from the Alembic command line, the names come
from ``-x table_prefix=… -x schema=…`` (or the main options ``modec_table_prefix`` and
``modec_schema``), else they are the default, unprefixed ones. Every revision names what it
creates through :func:`migration_tables`, so one set of revisions serves every prefix.
"""

from __future__ import annotations

from alembic import context, op
from sqlalchemy import table

from modec.runtime.sessions.engine import TABLES_ATTRIBUTE
from modec.runtime.sessions.schema import Tables, tables

__all__ = ["migration_tables", "qualified"]


def migration_tables() -> Tables:
    """The tables of the migration being run (see the module doc)."""
    config = context.config
    found = config.attributes.get(TABLES_ATTRIBUTE)
    if isinstance(found, Tables):
        return found
    options = context.get_x_argument(as_dictionary=True)
    prefix = options.get("table_prefix", config.get_main_option("modec_table_prefix") or "")
    schema = options.get("schema", config.get_main_option("modec_schema")) or None
    found = tables(prefix, schema)
    config.attributes[TABLES_ATTRIBUTE] = found
    return found


def qualified(base: str) -> str:
    """The quoted, schema-qualified name of table ``base`` for raw SQL of a migration."""
    names = migration_tables()
    preparer = op.get_bind().dialect.identifier_preparer
    return preparer.format_table(table(names.name(base), schema=names.schema))
