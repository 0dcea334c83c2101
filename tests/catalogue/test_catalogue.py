"""The public work catalogue (公共文化工作目录): lines read live, fixed (固化) and published by staff in scope, later
changes shown as such, and a printable DOCX."""

import io

import pytest

from core.i18n import local_today, to_local
from resources import services as resources
from tests import activity_factories as af
from tests import factories as f
from tests.orders.factories import menu_item


@pytest.fixture
def world(app):
    net = f.network()
    net["hub_staff"] = f.staff(net["hub"], login="hubstaff")
    net["staff"] = f.staff(net["station"], login="station")
    net["branch_staff"] = f.staff(net["branch"], login="branch")
    net["item"] = menu_item(net["branch"], net["branch_staff"], title="公益电影放映")
    net["course"] = af.activity(net["station"], kind="course", actor=net["staff"], title="剪纸班", sessions=3)
    net["brand"] = resources.create_brand(net["hub"], data={"name": "油城春潮"}, actor=net["hub_staff"])
    f.commit()
    return net


def _year(world) -> int:
    """The local year of the course's first lesson (the factories plan it a week ahead, whatever today is)."""
    return to_local(world["course"].sessions[0].starts_at).year


def test_a_draft_catalogue_is_not_public_and_staff_see_every_section(client, world):
    year = _year(world)
    page = client.get(f"/catalogue/{year}").get_data(as_text=True)
    assert "公益电影放映" not in page and "剪纸班" not in page
    client.login("hubstaff")
    body = client.get(f"/api/v1/catalogue/{year}").get_json()
    assert body["status"] == "draft"
    sections = {line["section"] for line in body["lines"]}
    assert sections == {"menu", "classes", "brands", "hours"}
    menu = next(line for line in body["lines"] if line["section"] == "menu")
    assert menu["title"] == "公益电影放映" and menu["venue"] == world["branch"].name  # who provides it
    hours = [line for line in body["lines"] if line["section"] == "hours"]
    assert len(hours) == 6 and "08:00–20:00" in hours[0]["detail"]  # every venue's opening hours


def test_staff_fix_lines_and_publish_and_later_changes_are_shown_as_such(client, world):
    year = _year(world)
    client.login("hubstaff")
    fixed = client.post(f"/api/v1/catalogue/{year}/fixed", json={"keys": [f"menu:{world['item'].id}"]})
    assert fixed.status_code == 200
    published = client.post(f"/api/v1/catalogue/{year}/publish", json={})
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    client.post("/logout")
    body = client.get(f"/api/v1/catalogue/{year}").get_json()
    by_key = {line["key"]: line for line in body["lines"]}
    assert by_key[f"menu:{world['item'].id}"]["is_fixed"] and all(line["change"] is None for line in body["lines"])

    world["course"].title = "剪纸提高班"
    resources.create_brand(world["station"], data={"name": "东风一镇一品"}, actor=world["staff"])
    af.activity(world["sibling"], kind="course", title="新开书法班", sessions=2)
    f.commit()
    changes = {line["title"]: line["change"] for line in client.get(f"/api/v1/catalogue/{year}").get_json()["lines"]}
    assert changes["剪纸提高班"] == "changed" and changes["东风一镇一品"] == "added"
    assert changes["新开书法班"] == "added"
    page = client.get(f"/catalogue/{year}").get_data(as_text=True)
    assert "剪纸提高班" in page and ("发布后" in page or "after publication" in page)


def test_the_printable_document_is_a_docx_with_the_sections(client, world):
    from docx import Document

    year = _year(world)
    client.login("hubstaff")
    client.post(f"/api/v1/catalogue/{year}/publish", json={})
    client.post("/logout")
    response = client.get(f"/catalogue/{year}.docx")
    assert response.status_code == 200 and response.mimetype.endswith("wordprocessingml.document")
    doc = Document(io.BytesIO(response.data))
    text = "\n".join(cell.text for table in doc.tables for row in table.rows for cell in row.cells)
    assert "公益电影放映" in text and "剪纸班" in text and "油城春潮" in text


def test_publishing_is_scope_checked_and_years_are_bounded(client, world):
    client.login("station")
    year = local_today().year
    assert client.post(f"/api/v1/catalogue/{year}/publish", json={}).status_code == 403  # the hub's catalogue
    own = client.post(f"/api/v1/catalogue/{year}/publish", json={"venue_id": world["station"].id})
    assert own.status_code == 200
    assert (
        client.post(
            f"/api/v1/catalogue/{year}/fixed", json={"keys": ["menu:999999"], "venue_id": world["station"].id}
        ).status_code
        == 422
    )
    assert client.get("/api/v1/catalogue/1999").status_code == 422
    assert client.get("/catalogue/3000").status_code == 422
    assert client.get(f"/staff/catalogue/{year}?venue={world['station'].id}").status_code == 200
    assert client.get(f"/staff/catalogue/{year}").status_code == 403
