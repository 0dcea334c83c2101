"""Demo data of the digital culture centre (`flask demo seed`), idempotent: the four seasonal brands of the hub
with some activities joined, a few resources and a local-culture collection. Media files are made with
ffmpeg at seed time when it is installed; without it the video and audio are skipped (an image and the
brands and collection are still seeded)."""

import io
import logging
import subprocess
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from accounts.services import find_by_login
from activities.models import Activity, ActivityStatus
from core.extensions import db
from resources import media, services
from resources.models import Brand, Collection, Resource
from venues.models import Venue

log = logging.getLogger(__name__)

BRANDS = [
    ("油城春潮", "Oil City Spring Tide", "春季群众文艺展演，各区县文化馆和乡镇文化站轮番登台。"),
    ("鹤乡之夏", "Summer in the Crane Country", "夏季广场文化活动：广场舞、消夏晚会、露天电影。"),
    ("辽河金秋", "Golden Autumn on the Liao", "秋季丰收节庆与非遗展示，辽河口文化的集中展现。"),
    ("盘锦冬韵", "Panjin Winter Rhythm", "冬季冰雪文化与春节系列文化活动。"),
]


def _ffmpeg(args: list[str]) -> bytes | None:
    """Run ffmpeg to make a short demo file; None when ffmpeg is missing or fails."""
    ffmpeg = media.tool("ffmpeg")
    if ffmpeg is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"demo{args[-1]}"
        try:
            subprocess.run(
                [ffmpeg, "-nostdin", "-v", "error", "-y", *args[:-1], str(out)],
                check=True,
                capture_output=True,
                timeout=120,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
            return None
        return out.read_bytes()


def demo_video() -> bytes | None:
    return _ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=4:size=320x240:rate=15",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=4",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "-movflags",
            "+faststart",
            ".mp4",
        ]
    )


def demo_audio() -> bytes | None:
    return _ffmpeg(["-f", "lavfi", "-i", "sine=frequency=330:duration=5", "-c:a", "libmp3lame", ".mp3"])


def demo_image() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 320), (180, 30, 40))
    ImageDraw.Draw(image).rectangle((60, 60, 420, 260), outline=(250, 220, 120), width=8)
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def seed(scale: int = 1) -> list:
    """Brands, resources and a collection at the hub (found by name, so seeding twice adds nothing)."""
    actor = find_by_login("admin")
    hub = db.session.execute(select(Venue).where(Venue.parent_id.is_(None)).order_by(Venue.id)).scalar()
    if actor is None or hub is None:
        log.warning("no admin or no hub: digital demo skipped")
        return []
    brands = [_brand(hub, actor, *row) for row in BRANDS]
    _join_activities(brands[0], actor)
    items = [
        ("剪纸入门第一课（录播）", "heritage", "盘锦剪纸", demo_video),
        ("辽河号子演唱（音频）", "music", "辽河号子", demo_audio),
        ("农民画作品选", "fine_art", "", demo_image),
    ]
    resources = [
        r
        for r in (_resource(hub, actor, title, cat, heritage, make, brands[2]) for title, cat, heritage, make in items)
        if r is not None
    ]
    _collection(hub, actor, resources)
    db.session.flush()
    return []


def _brand(hub: Venue, actor, name: str, name_en: str, summary: str) -> Brand:
    found = db.session.execute(select(Brand).where(Brand.venue_id == hub.id, Brand.name == name)).scalar()
    return found or services.create_brand(
        hub, data={"name": name, "name_en": name_en, "summary": summary, "description": summary}, actor=actor
    )


def _join_activities(brand: Brand, actor, n: int = 3) -> None:
    stmt = (
        select(Activity)
        .where(Activity.status == ActivityStatus.published, Activity.brand_id.is_(None))
        .order_by(Activity.id)
        .limit(n)
    )
    if db.session.execute(select(Activity.id).where(Activity.brand_id == brand.id).limit(1)).first():
        return
    for activity in db.session.execute(stmt).scalars():
        services.attach_activity(brand, activity, actor=actor)


def _resource(hub: Venue, actor, title: str, category: str, heritage: str, make, brand: Brand) -> Resource | None:
    found = db.session.execute(select(Resource).where(Resource.title == title)).scalar()
    if found is not None:
        return found
    data = make()
    if data is None:
        log.info("ffmpeg not available: demo resource %s skipped", title)
        return None
    upload_dir = current_app.config["UPLOAD_DIR"]
    resource = services.create_resource(
        hub,
        data={
            "title": title,
            "category": category,
            "heritage_item": heritage,
            "licence": "演示素材，可自由使用",
            "brand_id": brand.id,
            "description": f"{title}（演示数据）",
        },
        stream=io.BytesIO(data),
        filename=f"demo-{len(title)}",
        actor=actor,
        upload_dir=upload_dir,
        max_bytes=50 * 1024 * 1024,
    )
    if media.tool("ffprobe") is not None:
        media.process_resource(resource, upload_dir=upload_dir)
    return resource


def _collection(hub: Venue, actor, resources: list[Resource]) -> None:
    if db.session.execute(select(Collection).where(Collection.title == "辽河口民间文化")).scalar():
        return
    services.create_collection(
        hub,
        data={
            "title": "辽河口民间文化",
            "subject_kind": "village_tradition",
            "subject": "辽河口",
            "is_published": True,
            "description": "辽河入海口一带的剪纸、号子与农民画。",
            "resource_ids": [r.id for r in resources],
        },
        actor=actor,
    )
