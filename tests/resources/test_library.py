"""The digital library: uploads streamed, sniffed and size-limited; the ffmpeg job; search; media with ranges."""

from datetime import timedelta
from pathlib import Path

import pytest

from core.db import utcnow
from core.extensions import db
from resources import media
from resources.models import Resource, ResourceKind, ResourceStatus
from tests import factories as f
from tests.resources import helpers as h


@pytest.fixture
def uploads(app, tmp_path):
    old = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield Path(app.config["UPLOAD_DIR"])
    app.config["UPLOAD_DIR"] = old


@pytest.fixture
def net(app):
    net = f.network()
    net["staff"] = f.staff(net["station"], login="station")
    net["sibling_staff"] = f.staff(net["sibling"], login="sibling")
    f.commit()
    return net


def _upload(client, path_or_bytes, venue_id, name="lesson.mp4", **fields):
    import io

    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    body = {
        "file": (io.BytesIO(data), name),
        "title": fields.pop("title", "剪纸第一课"),
        "category": "heritage",
        "venue_id": str(venue_id),
        **fields,
    }
    return client.post(
        "/api/v1/resources", data=body, content_type="multipart/form-data", headers={"X-CSRFToken": client.csrf_token()}
    )


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "resources").glob("*")) if (folder / "resources").exists() else []


def test_a_staff_upload_is_stored_then_probed_by_the_job_into_a_published_video(client, net, uploads, tmp_path):
    video = h.make_video(tmp_path)
    client.login("station")
    response = _upload(client, video, net["station"].id)
    assert response.status_code == 201, response.get_json()
    resource = db.session.get(Resource, response.get_json()["id"])
    assert resource.status == ResourceStatus.processing and resource.kind == ResourceKind.video
    assert resource.size_bytes == video.stat().st_size
    assert (uploads / "resources" / resource.stored_name).read_bytes() == video.read_bytes()
    assert client.get(f"/api/v1/resources/{resource.id}").status_code == 200  # staff see it
    client.post("/logout")
    assert client.get(f"/resources/{resource.id}").status_code == 404  # residents do not, yet

    assert media.process_uploads(utcnow()) == 1
    assert media.process_uploads(utcnow()) == 0  # a second run does nothing more
    db.session.expire_all()
    resource = db.session.get(Resource, resource.id)
    assert resource.status == ResourceStatus.ready and 2.5 <= resource.duration_seconds <= 3.5
    assert (uploads / "resources" / resource.poster_name).read_bytes()[:3] == b"\xff\xd8\xff"
    page = client.get(f"/resources/{resource.id}").get_data(as_text=True)
    assert "<video" in page and f"/resources/{resource.id}/media" in page and "poster=" in page


def test_a_file_is_judged_by_its_bytes_not_its_name_and_a_refused_one_leaves_nothing(client, net, uploads):
    client.login("station")
    response = _upload(client, b"just some text, not a video at all", net["station"].id, name="fake.mp4")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_type"
    assert _files(uploads) == [] and db.session.query(Resource).count() == 0


def test_an_upload_over_the_configured_limit_is_refused_with_413_and_nothing_kept(app, client, net, uploads):
    app.config["RESOURCE_MAX_BYTES"] = 1000
    try:
        client.login("station")
        response = _upload(client, b"%PDF-1.4\n" + b"x" * 5000, net["station"].id, name="big.pdf")
    finally:
        app.config.pop("RESOURCE_MAX_BYTES")
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_large"
    assert _files(uploads) == [] and db.session.query(Resource).count() == 0


def test_an_upload_larger_than_the_site_wide_form_limit_is_accepted_within_the_library_limit(app, client, net, uploads):
    app.config["MAX_CONTENT_LENGTH"], old = 10_000, app.config["MAX_CONTENT_LENGTH"]
    try:
        client.login("station")
        response = _upload(client, b"%PDF-1.4\n" + b"x" * 50_000, net["station"].id, name="minutes.pdf")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = old
    assert response.status_code == 201


def test_what_ffmpeg_cannot_read_is_refused_by_the_job_and_its_bytes_removed(client, net, uploads):
    h.need_ffmpeg()
    client.login("station")
    response = _upload(client, b"\x00\x00\x00\x18ftypmp42" + b"\x00garbage" * 200, net["station"].id)
    assert response.status_code == 201
    media.process_uploads(utcnow())
    resource = db.session.get(Resource, response.get_json()["id"])
    assert resource.status == ResourceStatus.rejected and resource.problem == "unreadable"
    assert _files(uploads) == []
    assert client.get("/api/v1/resources").get_json()["total"] == 0


def test_staff_upload_only_in_their_scope_and_residents_not_at_all(client, net, uploads):
    client.login("sibling")
    assert _upload(client, b"%PDF-1.4\n", net["station"].id).status_code == 403
    client.post("/logout")
    f.resident("13800000009")
    f.commit()
    client.login("13800000009")
    assert _upload(client, b"%PDF-1.4\n", net["station"].id).status_code == 403
    assert _files(uploads) == []


def test_bad_upload_fields_are_422_with_the_field_named(client, net, uploads):
    client.login("station")
    no_file = client.post(
        "/api/v1/resources",
        data={"title": "x", "venue_id": str(net["station"].id)},
        content_type="multipart/form-data",
        headers={"X-CSRFToken": client.csrf_token()},
    )
    assert no_file.status_code == 422 and "file" in no_file.get_json()["error"]["fields"]
    bad = _upload(client, b"%PDF-1.4\n", net["station"].id, category="cooking", title="")
    assert bad.status_code == 422 and {"category", "title"} <= set(bad.get_json()["error"]["fields"])
    json_body = client.post("/api/v1/resources", json={"title": "x"})
    assert json_body.status_code == 415
    assert _files(uploads) == []


def test_the_library_is_searched_by_text_category_and_venue_subtree(client, net, uploads):
    staff = net["staff"]
    pdf = b"%PDF-1.4\n%test\n"
    h.resource(net["station"], staff, pdf, title="剪纸入门", heritage_item="盘锦剪纸", upload_dir=uploads)
    h.resource(net["station"], staff, pdf, title="二人转唱段", category="quyi", upload_dir=uploads)
    other = f.staff(net["other_branch"])
    h.resource(net["other_branch"], other, pdf, title="农民画", category="fine_art", upload_dir=uploads)
    h.resource(net["station"], staff, pdf, title="未处理", process=False, upload_dir=uploads)
    f.commit()

    def titles(query: str) -> set[str]:
        return {r["title"] for r in client.get(f"/api/v1/resources?{query}").get_json()["items"]}

    assert titles("") == {"剪纸入门", "二人转唱段", "农民画"}
    assert titles("q=剪纸") == {"剪纸入门"}
    assert titles("category=quyi") == {"二人转唱段"}
    assert titles(f"venue={net['branch'].id}") == {"剪纸入门", "二人转唱段"}
    assert client.get("/api/v1/resources?category=cooking").status_code == 422
    page = client.get("/resources?q=剪纸").get_data(as_text=True)
    assert "剪纸入门" in page and "农民画" not in page


def test_media_answers_range_requests_with_206_and_a_bad_range_with_416(client, net, uploads, tmp_path):
    video = h.make_video(tmp_path)
    r = h.resource(net["station"], net["staff"], video.read_bytes(), upload_dir=uploads)
    f.commit()
    size = video.stat().st_size
    whole = client.get(f"/resources/{r.id}/media")
    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Content-Type"] == "video/mp4" and len(whole.data) == size
    assert whole.headers["ETag"] and whole.headers["Last-Modified"]
    assert "public" in whole.headers["Cache-Control"] and "max-age=" in whole.headers["Cache-Control"]
    part = client.get(f"/resources/{r.id}/media", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.headers["Content-Range"] == f"bytes 100-199/{size}"
    assert part.data == video.read_bytes()[100:200]
    tail = client.get(f"/resources/{r.id}/media", headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.data == video.read_bytes()[-50:]
    bad = client.get(f"/resources/{r.id}/media", headers={"Range": f"bytes={size + 10}-"})
    assert bad.status_code == 416 and bad.headers["Content-Range"] == f"bytes */{size}"
    again = client.get(f"/resources/{r.id}/media", headers={"If-None-Match": whole.headers["ETag"]})
    assert again.status_code == 304
    assert client.get(f"/resources/{r.id}/poster.jpg").status_code == 200


def test_a_withdrawn_resource_disappears_from_the_public_library(client, net, uploads):
    r = h.resource(net["station"], net["staff"], b"%PDF-1.4\n", upload_dir=uploads)
    f.commit()
    client.login("station")
    assert client.patch(f"/api/v1/resources/{r.id}", json={"withdrawn": True, "licence": "CC BY"}).status_code == 200
    client.post("/logout")
    assert client.get(f"/api/v1/resources/{r.id}").status_code == 404
    assert client.get(f"/resources/{r.id}/media").status_code == 404


def test_a_course_page_lists_its_recorded_lessons(client, net, uploads):
    from tests import activity_factories as af

    course = af.activity(net["station"], kind="course", actor=net["staff"], title="剪纸班")
    h.resource(
        net["station"], net["staff"], b"%PDF-1.4\n", title="第一课讲义", activity_id=course.id, upload_dir=uploads
    )
    f.commit()
    page = client.get(f"/activities/{course.id}").get_data(as_text=True)
    assert "第一课讲义" in page


def test_the_staff_upload_page_publishes_through_a_plain_form(client, net, uploads):
    import io

    client.login("station")
    assert client.get("/staff/resources").status_code == 200
    response = client.post(
        "/staff/resources",
        data={
            "csrf_token": client.csrf_token(),
            "file": (io.BytesIO(h.jpeg_bytes()), "photo.jpg"),
            "title": "农民画",
            "category": "fine_art",
            "venue_id": str(net["station"].id),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert db.session.query(Resource).one().kind == ResourceKind.image
    forged = client.post(
        "/staff/resources",
        data={
            "csrf_token": "nope",
            "file": (io.BytesIO(b"%PDF-1.4"), "a.pdf"),
            "title": "x",
            "venue_id": str(net["station"].id),
        },
        content_type="multipart/form-data",
    )
    assert forged.status_code == 403


def test_processing_at_a_later_time_keeps_the_first_publication_time(net, uploads):
    r = h.resource(net["station"], net["staff"], h.jpeg_bytes(), process=False, upload_dir=uploads)
    later = utcnow() + timedelta(hours=3)
    media.process_resource(r, upload_dir=uploads, now=later)
    assert r.status == ResourceStatus.ready and r.published_at == later and r.poster_name
