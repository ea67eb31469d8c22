from __future__ import annotations

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..access import public


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except DatabaseError:
        return "unreachable"


def _redis_state() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
        return "ok"
    except redis.RedisError:
        return "unreachable"
    finally:
        client.close()


@public("load balancers and monitors probe it; it reveals no data")
@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database_state(), "redis": _redis_state()}
    healthy = all(state in ("ok", "not configured") for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )
