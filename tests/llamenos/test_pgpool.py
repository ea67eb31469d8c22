"""llamenos/pgpool: the pool's check of a connection it hands out, against real PostgreSQL."""

from __future__ import annotations

import select
import time
import uuid

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from llamenos.pgpool import connection_check
from llamenos.pgpool.base import DatabaseWrapper
from llamenos.settings.base import database_pooled

pytestmark = pytest.mark.django_db


@pytest.fixture
def params():
    from django.db import connection

    return {**connection.get_connection_params(), "autocommit": True}


@pytest.fixture
def observer(params):
    with psycopg.connect(**params) as conn:
        yield conn


def _last_query(observer, pid: int) -> str:
    return observer.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()[0]


def _terminate(observer, conn) -> None:
    observer.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    assert poller.poll(5000), "the server never closed the connection"


def test_a_healthy_idle_connection_is_checked_without_a_round_trip(params, observer):
    marker = f"SELECT 'marker {uuid.uuid4().hex}'"
    with psycopg.connect(**params) as conn:
        conn.execute(marker)
        connection_check(conn)
        assert _last_query(observer, conn.info.backend_pid) == marker  # nothing was sent
        ConnectionPool.check_connection(conn)  # psycopg_pool's own check: an empty query
        assert _last_query(observer, conn.info.backend_pid) == ""


def test_a_connection_the_server_dropped_fails_the_check(params, observer):
    with psycopg.connect(**params) as conn:
        _terminate(observer, conn)
        with pytest.raises(psycopg.OperationalError):
            connection_check(conn)


def test_a_closed_connection_fails_the_check(params):
    conn = psycopg.connect(**params)
    conn.close()
    with pytest.raises(psycopg.OperationalError, match="closed"):
        connection_check(conn)


def test_the_pool_replaces_a_dropped_connection_before_anyone_gets_it(params, observer):
    with ConnectionPool(kwargs=params, min_size=1, max_size=1, check=connection_check, timeout=10) as pool:
        with pool.connection() as conn:
            dropped = conn.info.backend_pid
        with pool.connection() as conn:
            _terminate(observer, conn)
        with pool.connection() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.info.backend_pid != dropped


def test_the_backend_hands_django_a_working_connection_after_the_server_dropped_one(observer):
    from django.db import connection

    settings_dict = {
        **connection.settings_dict,
        "ENGINE": "llamenos.pgpool",
        "CONN_MAX_AGE": 0,
        "OPTIONS": {**connection.settings_dict["OPTIONS"], "pool": {"min_size": 1, "max_size": 1}},
    }
    wrapper = DatabaseWrapper(settings_dict, alias="pgpool_test")
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (dropped,) = cursor.fetchone()
        wrapper.close()  # back to the pool
        observer.execute("SELECT pg_terminate_backend(%s)", (dropped,))
        deadline = time.monotonic() + 5
        while observer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (dropped,)).fetchone():
            assert time.monotonic() < deadline, "the server never ended that backend"
            time.sleep(0.01)
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] != dropped
        wrapper.close()
    finally:
        wrapper.close_pool()


def test_pooled_settings_use_this_backend():
    database = database_pooled({"ENGINE": "django.db.backends.postgresql"}, max_size=4)
    assert database["ENGINE"] == "llamenos.pgpool"
    assert database["OPTIONS"]["pool"]["max_size"] == 4
    assert database_pooled({"ENGINE": "django.db.backends.postgresql"}, max_size=0)["ENGINE"] == (
        "django.db.backends.postgresql"
    )
