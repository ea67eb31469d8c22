from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llamenos.settings.dev")
# Django must be set up before consumers (and so models) are imported.
django.setup(set_prefix=False)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from llamenos.heap import startup_heap_freeze  # noqa: E402
from llamenos.http import ThreadedHTTPHandler  # noqa: E402
from telephony.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Every view is synchronous: each request runs in one worker thread (llamenos/http.py).
        "http": ThreadedHTTPHandler(),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

startup_heap_freeze()
