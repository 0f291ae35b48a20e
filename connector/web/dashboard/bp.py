"""The dashboard's Flask blueprint object, shared by its view modules."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint(
    "dashboard",
    __name__,
    template_folder="templates",
    static_folder="static",
    # The app's own /static belongs to the app; the dashboard serves its CSS and JS under its own path.
    static_url_path="/dashboard-static",
)
