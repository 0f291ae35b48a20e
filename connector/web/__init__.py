"""The connector's web app: install and authorization routes, the customer choice page and health check."""

from __future__ import annotations

from connector.web.app import create_app

__all__ = ["create_app"]
