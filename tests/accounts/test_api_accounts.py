"""API: tokens, residents, me, participants (docs/api.md)."""

from tests import factories as f


def _auth(client, login="13800000001"):
    token = client.post("/api/v1/auth/token", json={"login": login, "password": f.PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_register_then_get_a_token_then_me(client):
    response = client.post(
        "/api/v1/residents",
        json={"name": "王丽", "phone": "13800000003", "password": "secret123", "birth_year": 1996, "consent": True},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "card_number"} and len(body["card_number"]) == 12
    token = client.post("/api/v1/auth/token", json={"login": body["card_number"], "password": "secret123"})
    assert token.status_code == 200
    data = token.get_json()
    assert data["user"]["id"] == body["id"] and data["expires_at"].endswith("Z") or "+" in data["expires_at"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {data['token']}"}).get_json()
    assert me["name"] == "王丽" and me["suspended_until"] is None


def test_duplicate_phone_registration_is_a_409(client):
    f.resident("13800000001")
    f.commit()
    response = client.post(
        "/api/v1/residents", json={"name": "x", "phone": "13800000001", "password": "secret123", "consent": True}
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "duplicate"


def test_overlong_name_is_a_422_naming_the_field(client):
    response = client.post(
        "/api/v1/residents", json={"name": "长" * 51, "phone": "13800000001", "password": "secret123"}
    )
    assert response.status_code == 422
    assert "name" in response.get_json()["error"]["fields"]


def test_wrong_password_is_a_401_with_a_code(client):
    f.resident("13800000001")
    f.commit()
    response = client.post("/api/v1/auth/token", json={"login": "13800000001", "password": "wrong-one"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"


def test_participants_list_and_add(client):
    f.resident("13800000001")
    f.commit()
    headers = _auth(client)
    added = client.post(
        "/api/v1/me/participants",
        headers=headers,
        json={"name": "王小明", "birth_year": 2016, "relation": "grandchild"},
    )
    assert added.status_code == 201
    listing = client.get("/api/v1/me/participants", headers=headers).get_json()
    assert [p["relation"] for p in listing["items"]] == ["self", "grandchild"] and listing["total"] == 2


def test_a_participant_with_a_bad_relation_is_refused(client):
    f.resident("13800000001")
    f.commit()
    response = client.post("/api/v1/me/participants", headers=_auth(client), json={"name": "x", "relation": "self"})
    assert response.status_code == 422
