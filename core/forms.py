"""Glue between WTForms and domain errors, shared by every package's views."""

from flask import flash

from core.errors import DomainError
from core.transaction import refused


def show_domain_error(form, err: DomainError) -> int:
    """Put a service's refusal on the form (field messages) or in a flash; returns the status to answer.

    A refusal of the caller (403) is not a form error: it is raised again, so the page answers 403 rather than
    a flash on a redirect that looks like success."""
    refused()
    if err.status == 403:
        raise err
    fields = err.extra.get("fields") or {}
    unplaced = []
    for name, messages in fields.items():
        field = getattr(form, name, None) if form is not None else None
        if field is None:
            unplaced.extend(messages)
        else:
            field.errors = [*field.errors, *messages]
    if not fields or unplaced:
        flash(" ".join(unplaced) if unplaced else str(err.message), "error")
    return 422 if err.status in (409, 422) else err.status
