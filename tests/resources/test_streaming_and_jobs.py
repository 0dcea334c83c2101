"""Uploads are copied in bounded chunks (a large file is never held in memory), and the probing job is one of
the scheduler's registered sweepers."""

import pytest

from resources import services
from resources.models import ResourceKind


class CountingStream:
    """A file-like upload of `total` bytes that remembers the largest read asked of it."""

    def __init__(self, total: int, head: bytes):
        self.left, self.head, self.largest = total, head, 0

    def read(self, n: int = -1) -> bytes:
        assert n > 0, "the whole stream was asked for at once"
        self.largest = max(self.largest, n)
        if self.head:
            chunk, self.head = self.head[:n], self.head[n:]
        else:
            chunk = b"\0" * min(n, self.left)
        self.left -= len(chunk)
        return chunk


def test_a_large_upload_is_copied_in_small_chunks_to_its_final_name(tmp_path):
    total = 20 * 1024 * 1024
    stream = CountingStream(total, b"\x1a\x45\xdf\xa3" + b"\0" * 60)
    stored = services.store_upload(stream, upload_dir=tmp_path, max_bytes=total)
    assert stored.kind == ResourceKind.video and stored.content_type == "video/webm" and stored.size == total
    assert stream.largest <= services.CHUNK
    files = list((tmp_path / "resources").iterdir())
    assert [f.name for f in files] == [stored.name] and files[0].stat().st_size == total


def test_a_stream_that_grows_past_the_limit_is_cut_off_and_removed(tmp_path):
    stream = CountingStream(10 * 1024 * 1024, b"%PDF-1.4\n")
    with pytest.raises(services.TooLarge):
        services.store_upload(stream, upload_dir=tmp_path, max_bytes=1024 * 1024)
    assert stream.left > 0  # it stopped reading
    assert list((tmp_path / "resources").iterdir()) == []


@pytest.mark.parametrize(
    ("head", "kind", "mime"),
    [
        (b"\x00\x00\x00\x20ftypisom", "video", "video/mp4"),
        (b"\x00\x00\x00\x20ftypM4A ", "audio", "audio/mp4"),
        (b"ID3\x04\x00", "audio", "audio/mpeg"),
        (b"OggS\x00\x02", "audio", "audio/ogg"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio", "audio/wav"),
        (b"\x89PNG\r\n\x1a\n", "image", "image/png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image", "image/webp"),
        (b"%PDF-1.7", "document", "application/pdf"),
    ],
)
def test_the_kind_is_read_from_the_first_bytes(head, kind, mime):
    assert services.sniff(head) == (ResourceKind(kind), mime)


@pytest.mark.parametrize("head", [b"MZ\x90\x00", b"<html><script>", b"PK\x03\x04", b""])
def test_other_bytes_are_refused(head):
    with pytest.raises(services.UnsupportedType):
        services.sniff(head)


def test_the_probing_job_is_registered_with_the_scheduler(app):
    from notify import scheduler

    assert "process_resource_uploads" in scheduler.JOBS
