"""Probing uploads with ffprobe/ffmpeg (Debian's): the duration, a poster frame, and a refusal for what
ffmpeg cannot read; the sweeper job that runs it over resources still `processing`.

ffmpeg runs in the scheduler process (never in a web request), with a time limit, on files we stored
under generated names; its output goes to a temporary name and is renamed when complete.
"""

import json
import logging
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from core.db import utcnow
from core.extensions import db
from resources.models import Resource, ResourceKind, ResourceStatus
from resources.services import library_dir

log = logging.getLogger(__name__)
PROBE_SECONDS = 60
POSTER_WIDTH = 640
BATCH = 5


class Unreadable(Exception):
    """ffprobe/ffmpeg (or Pillow for images) could not read the file."""


def tool(name: str) -> str | None:
    """The configured path of ffmpeg or ffprobe when it exists (Debian's /usr/bin by default), else None."""
    path = current_app.config.get(name.upper()) or f"/usr/bin/{name}"
    return path if Path(path).exists() else shutil.which(name)


def probe(path: Path) -> dict:
    """ffprobe's JSON for a file: its format and streams. Raises Unreadable."""
    ffprobe = tool("ffprobe")
    if ffprobe is None:
        raise FileNotFoundError("ffprobe")
    try:
        out = subprocess.run(
            [ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
            capture_output=True,
            timeout=PROBE_SECONDS,
            check=True,
        )
        return json.loads(out.stdout or b"{}")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        raise Unreadable(str(exc)[:200]) from None


def duration_of(info: dict, kind: ResourceKind) -> float:
    """The duration in seconds of the file's audio or video, refusing a file without such a stream."""
    wanted = "video" if kind == ResourceKind.video else "audio"
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == wanted]
    if not streams:
        raise Unreadable(f"no {wanted} stream")
    try:
        value = float(info.get("format", {}).get("duration") or streams[0].get("duration") or 0)
    except (TypeError, ValueError):
        value = 0.0
    return round(max(value, 0.0), 2)


def make_poster(path: Path, target: Path, at_seconds: float) -> None:
    """A JPEG frame of a video, POSTER_WIDTH wide, written to `target`. Raises Unreadable."""
    ffmpeg = tool("ffmpeg")
    if ffmpeg is None:
        raise FileNotFoundError("ffmpeg")
    partial = target.with_name(f".{target.name}.part.jpg")
    try:
        subprocess.run(
            [
                ffmpeg,
                "-nostdin",
                "-v",
                "error",
                "-y",
                "-ss",
                f"{at_seconds:.2f}",
                "-i",
                str(path),
                "-frames:v",
                "1",
                "-vf",
                f"scale='min({POSTER_WIDTH},iw)':-2",
                str(partial),
            ],
            capture_output=True,
            timeout=PROBE_SECONDS,
            check=True,
        )
        if not partial.exists() or partial.stat().st_size == 0:
            raise Unreadable("no frame")
        os.replace(partial, target)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise Unreadable(str(exc)[:200]) from None
    finally:
        partial.unlink(missing_ok=True)


def image_poster(path: Path, target: Path) -> None:
    """A checked, shrunk JPEG copy of an uploaded image (decoding it proves it is one). Raises Unreadable."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.thumbnail((POSTER_WIDTH, POSTER_WIDTH))
            image.convert("RGB").save(target, "JPEG", quality=85)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Unreadable(str(exc)[:200]) from None


def process_resource(resource: Resource, *, upload_dir: str | Path, now: datetime | None = None) -> Resource:
    """Probe one upload: duration and poster for media, a checked thumbnail for images. A file ffmpeg cannot
    read is refused (status `rejected`, its bytes removed); a readable one is published (`ready`)."""
    folder = library_dir(upload_dir)
    path = folder / resource.stored_name
    now = now or utcnow()
    try:
        if not path.exists():
            raise Unreadable("file missing")
        if resource.kind in (ResourceKind.video, ResourceKind.audio):
            resource.duration_seconds = duration_of(probe(path), resource.kind)
            if resource.kind == ResourceKind.video:
                poster = f"{Path(resource.stored_name).stem}-poster.jpg"
                make_poster(path, folder / poster, min(1.0, resource.duration_seconds / 2))
                resource.poster_name = poster
        elif resource.kind == ResourceKind.image:
            poster = f"{Path(resource.stored_name).stem}-poster.jpg"
            image_poster(path, folder / poster)
            resource.poster_name = poster
    except Unreadable as exc:
        log.info("resource refused id=%s reason=%s", resource.id, exc)
        resource.status = ResourceStatus.rejected
        resource.problem = "unreadable"
        resource.processed_at = now
        path.unlink(missing_ok=True)
        db.session.flush()
        return resource
    resource.status = ResourceStatus.ready
    resource.processed_at = now
    resource.published_at = resource.published_at or now
    db.session.flush()
    return resource


def process_uploads(now: datetime) -> int:
    """Probe the resources still `processing` (a few per run, oldest first), each committed on its own; a
    row another runner holds is skipped (SKIP LOCKED on PostgreSQL). Without ffmpeg the job waits, leaving
    them as they are. Running it again does nothing more. Returns how many were processed."""
    if tool("ffprobe") is None or tool("ffmpeg") is None:
        log.warning("ffmpeg/ffprobe not found: uploads stay in processing")
        return 0
    done = 0
    upload_dir = current_app.config["UPLOAD_DIR"]
    for _n in range(BATCH):
        stmt = (
            select(Resource)
            .where(Resource.status == ResourceStatus.processing)
            .order_by(Resource.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=Resource)
        )
        resource = db.session.execute(stmt).scalars().first()
        if resource is None:
            break
        process_resource(resource, upload_dir=upload_dir, now=now)
        db.session.commit()
        done += 1
    return done


# name → (job, seconds between runs), as in bookings.jobs; core/__init__.py register_jobs lists this table.
JOBS = {"process_resource_uploads": (process_uploads, 30)}
