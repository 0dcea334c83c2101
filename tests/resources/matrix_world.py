"""The digital centre's part of the authorization matrix's world (tests/core/test_authorization_matrix.py): owned
by the station, like the rest of that world."""

from flask import current_app

from core.i18n import local_today
from resources import services
from tests.resources import helpers as h


def build(net: dict, people: dict, later) -> dict:
    """A published picture and a resource still being processed at the station, a station brand with one
    activity, a published collection; returns the ids the rows use."""
    station, staff = net["station"], people["station_staff"]
    upload_dir = current_app.config["UPLOAD_DIR"]
    picture = h.resource(station, staff, h.jpeg_bytes(), title="农民画", upload_dir=upload_dir)
    pending = h.resource(station, staff, b"%PDF-1.4\n", title="待处理", process=False, upload_dir=upload_dir)
    brand = services.create_brand(station, data={"name": "东风一镇一品"}, actor=staff)
    services.attach_activity(brand, later, actor=staff)
    collection = services.create_collection(
        station, data={"title": "东风剪纸", "is_published": True, "resource_ids": [picture.id]}, actor=staff
    )
    return {
        "resource": picture.id,
        "pending_resource": pending.id,
        "brand": brand.id,
        "branded": later.id,
        "collection": collection.id,
        "year": local_today().year,
    }
