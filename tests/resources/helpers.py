"""Media made by ffmpeg in the test (never shipped), and a resource built through the real services."""

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from resources import media, services
from resources.models import Resource

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"


def need_ffmpeg() -> None:
    if not Path(FFMPEG).exists():
        from tests import dbs

        if dbs.CI:
            pytest.fail("CI=true needs ffmpeg (make browser-deps installs Debian's)")
        pytest.skip("ffmpeg not installed")


def make_video(folder: Path, seconds: int = 3) -> Path:
    """A small H.264/AAC MP4 (a test pattern and a tone), faststart so a browser plays it at once."""
    need_ffmpeg()
    out = folder / "lesson.mp4"
    subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=duration={seconds}:size=320x240:rate=15",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "-movflags",
            "+faststart",
            str(out),
        ],
        check=True,
        timeout=120,
    )
    return out


def make_audio(folder: Path, seconds: int = 2) -> Path:
    need_ffmpeg()
    out = folder / "song.mp3"
    subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=330:duration={seconds}",
            "-c:a",
            "libmp3lame",
            str(out),
        ],
        check=True,
        timeout=120,
    )
    return out


def jpeg_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(out, "JPEG")
    return out.getvalue()


def resource(
    venue, actor, data: bytes, *, title: str = "剪纸第一课", process: bool = True, upload_dir, **fields
) -> Resource:
    """A resource uploaded by `actor` at `venue` and (by default) probed, as the job would."""
    r = services.create_resource(
        venue,
        data={"title": title, "category": fields.pop("category", "heritage"), **fields},
        stream=io.BytesIO(data),
        filename="x",
        actor=actor,
        upload_dir=upload_dir,
        max_bytes=50 * 1024 * 1024,
    )
    if process:
        media.process_resource(r, upload_dir=upload_dir)
    return r
