"""API: the venue directory (docs/api.md), and the OpenAPI document that describes it."""

from tests import factories as f


def test_venues_filter_by_kind_parent_and_district(client):
    net = f.network()
    f.commit()
    body = client.get("/api/v1/venues?kind=station").get_json()
    assert {v["id"] for v in body["items"]} == {net["station"].id, net["sibling"].id}
    assert body["total"] == 2 and body["page"] == 1
    item = body["items"][0]
    assert set(item) >= {"id", "name", "kind", "parent_id", "district", "address", "lat", "lon"}
    body = client.get(f"/api/v1/venues?parent={net['branch'].id}").get_json()
    assert {v["id"] for v in body["items"]} == {net["station"].id, net["sibling"].id}
    body = client.get("/api/v1/venues?district=211122").get_json()
    assert [v["id"] for v in body["items"]] == [net["other_branch"].id]


def test_venue_detail_lists_bookable_rooms(client):
    net = f.network()
    f.room(net["hub"], name="排练厅", capacity=60)
    f.commit()
    body = client.get(f"/api/v1/venues/{net['hub'].id}").get_json()
    assert body["rooms"] == [
        {
            "id": body["rooms"][0]["id"],
            "name": "排练厅",
            "kind": "rehearsal",
            "capacity": 60,
            "floor_area": None,
            "bookable": True,
            "self_service": False,
        }
    ]
    assert len(body["opening_hours"]) == 7


def test_unknown_venue_and_bad_filters_are_clear_errors(client):
    assert client.get("/api/v1/venues/424242").status_code == 404
    response = client.get("/api/v1/venues?kind=castle&parent=abc")
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"kind", "parent"}


def test_openapi_document_describes_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "core.openapi":
            path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (path, method.lower()) in documented, f"{method} {path} is not in the OpenAPI document"
    post_residents = doc["paths"]["/api/v1/residents"]["post"]
    schema_ref = post_residents["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"name", "phone", "password"}
