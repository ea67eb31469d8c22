"""WSGI entry point: HTTP in production, served by gunicorn (deploy/gunicorn.conf.py)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llamenos.settings.dev")
application = get_wsgi_application()
