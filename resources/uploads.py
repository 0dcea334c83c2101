"""Receiving an upload in a request: the library's own size limit (RESOURCE_MAX_BYTES, larger than the site's
MAX_CONTENT_LENGTH) applied before the body is read, and the file part found or refused.

Werkzeug spools a multipart file part to a temporary file beyond 500 kB, so a large video is never held in
memory; services.store_upload then copies it to UPLOAD_DIR in chunks.
"""

from flask import current_app, request
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from core.errors import DomainError, Invalid
from resources.services import TooLarge

FORM_OVERHEAD = 64 * 1024  # the other fields and the multipart boundaries


def max_bytes() -> int:
    return int(current_app.config.get("RESOURCE_MAX_BYTES") or 500 * 1024 * 1024)


def allow_large_body() -> None:
    """Raise this request's body limit to the library's (before anything reads the form); refuse at once a
    body that says it is larger (413, too_large)."""
    limit = max_bytes() + FORM_OVERHEAD
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(fields={"file": [_("At most %(mb)s MB.", mb=max_bytes() // (1024 * 1024) or 1)]})


def receive(field: str = "file") -> FileStorage:
    """The uploaded file part `field` of a multipart request. Raises 415 for another body, Invalid without it."""
    allow_large_body()
    if request.mimetype != "multipart/form-data":
        raise DomainError(_("Send the upload as multipart/form-data."), code="unsupported_media_type", status=415)
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        raise Invalid(fields={field: [_("Choose a file to upload.")]})
    return upload
