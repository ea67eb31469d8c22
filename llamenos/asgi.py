"""ASGI entry point: websockets (/ws/), and HTTP through Django's own ASGIHandler for a single
process in development (`runserver` with daphne). Production serves HTTP with gunicorn
(llamenos.wsgi) and only /ws/ with daphne; the proxy splits them by path (deploy/)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llamenos.settings.dev")
# Sets Django up, so the consumers (and their models) can be imported below.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from llamenos.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
