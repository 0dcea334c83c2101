"""Photos of a delivered service (活动纪实): checked by decoding them (never by their names), shrunk to fit
1600×1200 and stored as fresh JPEGs (which drops any metadata), at most three per order."""

import secrets
from pathlib import Path

from flask_babel import lazy_gettext as _l

from core.errors import Invalid

MAX_PHOTOS = 3
MAX_BYTES = 10 * 1024 * 1024
FORMATS = {"JPEG", "PNG", "WEBP"}
SIZE = (1600, 1200)
NAME_PATTERN = r"(\d+)-[0-9a-f]{12}\.jpg"


class BadPhoto(Invalid):
    message = _l("Upload up to three JPEG, PNG or WebP photos of at most 10 MB each.")

    def __init__(self):
        super().__init__(fields={"photos": [str(self.message)]})


def decode_photos(streams) -> list:
    """The uploaded photos as RGB images, or `BadPhoto` when there are too many or one is not a picture."""
    from core.images import NotAPicture, decode_picture

    streams = list(streams)
    if len(streams) > MAX_PHOTOS:
        raise BadPhoto()
    pictures = []
    for stream in streams:
        data = stream.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise BadPhoto()
        try:
            pictures.append(decode_picture(data, formats=FORMATS, fit=SIZE).convert("RGB"))
        except NotAPicture:
            raise BadPhoto() from None
    return pictures


def save_photos(order_id: int, pictures: list, upload_dir: str) -> list[str]:
    """Store decoded pictures under `upload_dir/orders/`; returns their generated names."""
    folder = Path(upload_dir) / "orders"
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for picture in pictures:
        name = f"{order_id}-{secrets.token_hex(6)}.jpg"
        picture.save(folder / name, "JPEG", quality=85, optimize=True)
        names.append(name)
    return names
