"""The store's one-transaction bind (issue 15 item 7, issue 11): ``rebind`` reads the binding
it replaces in its own transaction, ``before`` runs under the session lock, ``undo`` hears of
every prepared result that did not commit; ``start_session`` creates a bound session in one
transaction; ``probe`` is the cheap read caches check."""

from __future__ import annotations

import pytest

from modec.diagnostics import SessionNotActiveError
from modec.runtime.sessions import SessionBindingStore, SessionStatus

H1, H2, H3 = ("sha256:" + c * 64 for c in "123")


def test_rebind_reports_the_binding_it_replaced_and_versions_grow(
    store: SessionBindingStore,
) -> None:
    session, first = store.start_session("s", "/p", "a.yaml", H1)
    assert session.seq >= 1 and first.version == store.history("s")[0].id
    seen: list[object] = []
    done = store.rebind("s", "b.yaml", H2, "switch", before=lambda prev: seen.append(prev) or 7)
    assert seen == [first] and done.previous == first and done.prepared == 7
    assert done.binding.version == done.history.id > first.version
    again = store.rebind("s", "c.yaml", H3)
    assert again.previous == done.binding and again.prepared is None
    assert store.probe("s") == store.probe("s")
    probe = store.probe("s")
    assert probe is not None and (probe.status, probe.version) == (
        SessionStatus.ACTIVE,
        again.binding.version,
    )
    assert store.probe("nobody") is None


def test_a_failing_before_writes_nothing(store: SessionBindingStore) -> None:
    store.start_session("s", "/p", "a.yaml", H1)
    undone: list[int] = []

    def refuse(previous: object) -> int:
        raise OSError("backup folder is gone")

    with pytest.raises(OSError):
        store.rebind("s", "b.yaml", H2, "switch", before=refuse, undo=undone.append)
    assert undone == []
    binding = store.get_binding("s")
    assert binding is not None and binding.mode_file == "a.yaml"
    assert [h.action_type.value for h in store.history("s")] == ["bind"]


def test_prepared_results_of_a_transaction_that_fails_are_undone(
    store: SessionBindingStore,
) -> None:
    store.start_session("s", "/p", "a.yaml", H1)
    undone: list[int] = []
    with pytest.raises(ValueError):  # the write fails after before() ran: a bad action row
        store.rebind(
            "s",
            "b.yaml",
            H2,
            "switch",
            before=lambda prev: 1,
            undo=undone.append,
            validation_status="nonsense",
        )
    assert undone == []  # refused before the transaction: before() never ran
    store.terminate_session("s")
    with pytest.raises(SessionNotActiveError):
        store.rebind("s", "b.yaml", H2, before=lambda prev: 2, undo=undone.append)
    assert undone == []  # the lock check precedes before()


def test_start_session_is_all_or_nothing(store: SessionBindingStore) -> None:
    store.start_session("taken", "/p", "a.yaml", H1)
    with pytest.raises(ValueError, match="already exists"):
        store.start_session("taken", "/p", "b.yaml", H2)
    binding = store.get_binding("taken")
    assert binding is not None and binding.mode_file == "a.yaml"
    with pytest.raises(ValueError):
        store.start_session("empty-hash", "/p", "a.yaml", "")
    assert store.get_session("empty-hash") is None
    assert store.latest_session("/p").session_id == "taken"  # type: ignore[union-attr]


def _explode_on(store: SessionBindingStore, mode_file: str) -> None:
    """A trigger failing the history insert of ``mode_file``: the write after ``before``."""
    from sqlalchemy import text

    from modec.runtime.sessions import make_engine

    engine = make_engine(store._engine.url)
    statements = (
        [
            "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'boom'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER boom BEFORE INSERT ON mode_usage_history FOR EACH ROW "
            f"WHEN (NEW.mode_file = '{mode_file}') EXECUTE FUNCTION boom()",
        ]
        if store.dialect == "postgresql"
        else [
            "CREATE TRIGGER boom BEFORE INSERT ON mode_usage_history "
            f"WHEN NEW.mode_file = '{mode_file}' BEGIN SELECT RAISE(ABORT, 'boom'); END"
        ]
    )
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def test_a_write_failing_after_before_undoes_what_before_prepared(
    store: SessionBindingStore,
) -> None:
    store.start_session("s", "/p", "a.yaml", H1)
    _explode_on(store, "explode.yaml")
    undone: list[str] = []
    with pytest.raises(Exception, match="boom"):
        store.rebind(
            "s", "explode.yaml", H2, "switch", before=lambda prev: "backup-1", undo=undone.append
        )
    assert undone == ["backup-1"]
    binding = store.get_binding("s")
    assert binding is not None and binding.mode_file == "a.yaml"
    assert len(store.history("s")) == 1
