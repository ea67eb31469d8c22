"""A database backend: Django's PostgreSQL one, whose connection pool checks a connection before
a request gets it with a round trip only when the server has sent something since it was used
(``ENGINE = "llamenos.pgpool"``, set by ``database_pooled`` in the settings).

psycopg_pool's own check (``ConnectionPool.check_connection``, what Django's backend gives the
pool with ``CONN_HEALTH_CHECKS``) sends an empty query on every checkout: one more round trip
to the database for every webhook, on every request; and Django offers no other check. A
server that drops a connection (a restart, ``pg_terminate_backend``, ``idle_session_timeout``)
sends its error and closes the socket first, so the socket of an idle connection has something
to read exactly then (or when a notice came). A zero-timeout poll of the socket tells; only
then is the empty query sent, which fails for a dead connection, and the pool throws it away
and hands out another.

Not caught without a round trip: a server that vanished without closing anything (its host
lost). The empty query would not have caught that quickly either: it waits on TCP's timeouts.
"""

from __future__ import annotations

import select

import psycopg
from psycopg_pool import ConnectionPool

_NEWS = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


def connection_check(conn: psycopg.Connection) -> None:
    """Raise if ``conn`` is known to be dead or fails the empty query the server's news calls for."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    poller = select.poll()
    poller.register(conn.fileno(), _NEWS)
    if poller.poll(0):
        ConnectionPool.check_connection(conn)
