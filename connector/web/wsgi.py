"""WSGI entry point for any server: `gunicorn connector.web.wsgi:application` (settings from the environment)."""

from __future__ import annotations

from connector.web.app import create_app

application = create_app()
