"""The API's error contract: JSON errors with stable codes in the user's language, never a 500."""

import pytest

from tests import factories as f


def _token(client, login="13800000001"):
    return client.post("/api/v1/auth/token", json={"login": login, "password": f.PASSWORD}).get_json()["token"]


def test_malformed_json_is_a_400_with_a_code(client):
    response = client.post("/api/v1/residents", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_wrong_content_type_is_a_415(client):
    response = client.post("/api/v1/residents", data="name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_validation_errors_name_each_field_in_the_users_language(client):
    response = client.post(
        "/api/v1/residents",
        json={"name": "", "phone": "1", "password": "x", "extra": 1},
        headers={"Accept-Language": "en"},
    )
    body = response.get_json()["error"]
    assert response.status_code == 422 and body["code"] == "invalid"
    assert set(body["fields"]) == {"name", "phone", "password", "consent", "extra"}  # every field at once
    assert body["fields"]["extra"] == ["Unknown field."]


def test_errors_come_in_chinese_by_default(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    body = response.get_json()["error"]
    assert body["code"] == "unauthenticated"
    assert body["message"] != "Please sign in first."  # zh_CN when no language is asked for


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_a_405(client):
    response = client.delete("/api/v1/venues")
    assert response.status_code == 405


def test_a_forged_token_is_unauthenticated(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer forged.token.value"})
    assert response.status_code == 401


def test_a_forged_session_cookie_is_treated_as_signed_out(client):
    client.set_cookie("session", "eyJfdXNlcl9pZCI6IjE6MSJ9.forged.signature")
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/account").status_code == 302


def test_cookie_authenticated_writes_need_the_csrf_header(client):
    f.resident("13800000001")
    f.commit()
    client.login("13800000001")
    response = client.post("/api/v1/me/participants", json={"name": "王小明", "relation": "child"}, csrf=False)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "csrf_failed"
    ok = client.post("/api/v1/me/participants", json={"name": "王小明", "relation": "child"})
    assert ok.status_code == 201


def test_bearer_token_writes_need_no_csrf(client):
    f.resident("13800000001")
    f.commit()
    token = _token(client)
    response = client.post(
        "/api/v1/me/participants",
        json={"name": "王小明", "relation": "child"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201


def test_password_change_revokes_existing_tokens(client):
    from accounts import services
    from accounts.models import User
    from core.extensions import db

    user = f.resident("13800000001")
    f.commit()
    token = _token(client)
    services.change_password(db.session.get(User, user.id), current=f.PASSWORD, new="another-secret")
    f.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize("path", ["/", "/venues", "/login", "/register", "/nope"])
def test_pages_carry_the_security_headers(client, path):
    headers = client.get(path).headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_samesite(client):
    f.resident("13800000001")
    f.commit()
    response = client.post("/login", data={"login": "13800000001", "password": f.PASSWORD})
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_html_404_page_is_friendly_in_english_when_asked(client):
    response = client.get("/nope", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_an_unexpected_error_is_a_500_page_without_a_trace(backend, app):
    from tests.conftest import make_app

    fresh = make_app(backend)

    @fresh.get("/_boom_test")
    def _boom():
        raise RuntimeError("secret internals")

    with fresh.app_context():
        response = fresh.test_client().get("/_boom_test")
        from core.extensions import db

        db.session.remove()
        db.engine.dispose()
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
