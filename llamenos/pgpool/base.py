"""Django's PostgreSQL backend with the pool checking connections as ``connection_check`` does."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base

from . import connection_check


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        """As Django builds it (django/db/backends/postgresql/base.py), but for the check."""
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not pool_options:
            return None
        if self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            from psycopg_pool import ConnectionPool

            pool = ConnectionPool(
                kwargs={**self.get_connection_params(), "autocommit": True},  # Django sets it later
                open=False,
                configure=self._configure_connection,
                check=connection_check,
                **({} if pool_options is True else pool_options),
            )
            # Threads racing here build a pool each; the first one set wins (none is open yet).
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]
