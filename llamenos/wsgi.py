from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llamenos.settings.dev")
application = get_wsgi_application()

from llamenos.heap import startup_heap_freeze  # noqa: E402

startup_heap_freeze()
