"""Alembic migrations of the session schema, run by ``SessionBindingStore.upgrade()``.

To add a revision after changing the models in ``modec/runtime/sessions.py``, autogenerate it
against a scratch database that is at the current head, then review it by hand::

    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "modec/runtime/migrations")
    cfg.set_main_option("sqlalchemy.url", "sqlite:////tmp/modec-scratch.db")
    command.upgrade(cfg, "head")
    command.revision(cfg, message="what changed", autogenerate=True, rev_id="0002")

Released revisions are never edited; ``tests/integration/test_sessions.py`` checks that the
migrated schema matches the models.
"""
