"""WSGI entry point for any server: `gunicorn connector.web.wsgi:application` (settings from the environment).

It never migrates the database (run `connector db upgrade` first); `connector serve` does that itself.
"""

from __future__ import annotations

from connector.web.app import create_app

application = create_app()
