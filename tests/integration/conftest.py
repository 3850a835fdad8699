"""Database fixtures: every SQL test runs on a SQLite file and on the real PostgreSQL server.

PostgreSQL comes from ``MODEC_TEST_DATABASE_URL`` (for example
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Without it the PostgreSQL half of each
test is skipped, unless ``MODEC_REQUIRE_POSTGRES=1`` (CI sets it): then a missing variable or
an unreachable server fails the tests instead. A URL that is set but unreachable always fails:
asking for PostgreSQL and silently not testing it would hide exactly the bugs it is there for.

Each PostgreSQL test gets a fresh schema ``modec_test_<random>`` (the connection's
``search_path`` points at it through libpq ``options``, so the tables and Alembic's version
table land there) and drops it afterwards, so concurrent runs on one server never collide.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from modec.runtime.sessions import SessionBindingStore, sqlite_url

PG_URL_VAR = "MODEC_TEST_DATABASE_URL"
REQUIRE_PG_VAR = "MODEC_REQUIRE_POSTGRES"


def _postgres_required() -> bool:
    return os.environ.get(REQUIRE_PG_VAR, "").strip() not in ("", "0")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL server URL, checked reachable once per run; skips or fails as above."""
    url = os.environ.get(PG_URL_VAR, "").strip()
    if not url:
        if _postgres_required():
            pytest.fail(f"{REQUIRE_PG_VAR}=1 but {PG_URL_VAR} is not set", pytrace=False)
        pytest.skip(f"{PG_URL_VAR} is not set")
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the server fails every PostgreSQL test
        pytest.fail(f"PostgreSQL at {PG_URL_VAR}={url!r} is unreachable: {exc}", pytrace=False)
    finally:
        engine.dispose()
    return parsed.render_as_string(hide_password=False)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A URL whose connections live in a fresh, private schema, dropped after the test."""
    schema = f"modec_test_{secrets.token_hex(6)}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(postgres_server).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_file_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "state" / "modec.db")


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database: a SQLite file, or a private PostgreSQL schema."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_file_url")
    else:
        url = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[SessionBindingStore]:
    """A migrated store on :func:`database_url`, disposed after the test."""
    with SessionBindingStore(database_url) as opened:
        yield opened
