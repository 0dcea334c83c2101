"""Absolute URLs: from the configured PUBLIC_BASE_URL, so a forged Host header never reaches a link."""

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    """`url_for(endpoint)` made absolute: PUBLIC_BASE_URL + path when configured, else the request's own host
    (development only: in production the README asks for PUBLIC_BASE_URL)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
