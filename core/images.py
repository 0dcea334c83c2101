"""Decoding uploaded pictures safely: the type by content, a pixel budget checked before any decoding.

A PNG of 410 kB can describe 12000×12000 pixels (550 MB once decoded). `Image.open` only reads the
header, so the size is known before a byte of pixels is decoded: anything over `MAX_PIXELS` is refused
there, and Pillow's own bomb warnings count as errors. JPEGs are decoded at a reduced scale when only a
thumbnail is kept (`draft`), so even a large phone photo costs a fraction of its full size.
"""

import io
import warnings

MAX_PIXELS = 40_000_000  # about 7700×5200: any phone camera's photo; a 12000×12000 bomb is refused


class NotAPicture(ValueError):
    """The bytes are not a picture of an accepted format, or one larger than the pixel budget."""


def decode_picture(data: bytes, *, formats: set[str], fit: tuple[int, int] | None = None, max_pixels: int = MAX_PIXELS):
    """The picture in `data` as a loaded Pillow image (shrunk to fit `fit` when given), or NotAPicture."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in formats:
                    raise NotAPicture(probe.format)
                width, height = probe.size
                if width * height > max_pixels:
                    raise NotAPicture(f"{width}x{height} is over the pixel budget")
                probe.verify()
            image = Image.open(io.BytesIO(data))
            if fit is not None and image.format == "JPEG":
                image.draft("RGB", fit)
            image.load()
            if fit is not None:
                image.thumbnail(fit)
            return image
    except NotAPicture:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise NotAPicture(str(exc)) from None
