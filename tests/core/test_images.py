"""Uploaded pictures: a decompression bomb is refused from its header, before any pixel is decoded."""

import io
import resource
from types import SimpleNamespace

import pytest
from PIL import Image

from activities.services import BadImage, set_cover_image
from core.images import NotAPicture, decode_picture
from orders.services.photos import BadPhoto, decode_photos
from reports.checklist import BadEvidence, sniff


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG", optimize=True)  # one bit a pixel: tiny on disk
    return out.getvalue()


BOMB = png(12000, 12000)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_bomb_is_small_on_disk_and_refused_without_being_decoded():
    assert len(BOMB) < 1_000_000
    before = peak_mb()
    with pytest.raises(NotAPicture):
        decode_picture(BOMB, formats={"PNG"})
    assert peak_mb() - before < 50  # decoding it would take ~140 MB (550 MB as RGB)


def test_every_upload_of_pictures_refuses_the_bomb_with_its_own_clear_error():
    with pytest.raises(BadPhoto):
        decode_photos([io.BytesIO(BOMB)])
    with pytest.raises(BadEvidence):
        sniff(BOMB, "evidence.png")
    manager = SimpleNamespace()
    activity = SimpleNamespace(can_manage=lambda actor: True)
    with pytest.raises(BadImage):
        set_cover_image(activity, stream=io.BytesIO(BOMB), actor=manager, upload_dir="/nonexistent")


def test_an_ordinary_photo_is_decoded_and_shrunk_to_fit():
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), "red").save(out, "JPEG")
    image = decode_picture(out.getvalue(), formats={"JPEG"}, fit=(1200, 800))
    assert image.size[0] <= 1200 and image.size[1] <= 800


def test_a_picture_of_a_format_not_accepted_or_not_a_picture_at_all_is_refused():
    with pytest.raises(NotAPicture):
        decode_picture(png(10, 10), formats={"JPEG"})
    with pytest.raises(NotAPicture):
        decode_picture(b"%PDF-1.4 not a picture", formats={"JPEG", "PNG"})
