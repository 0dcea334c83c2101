"""Sign-out is server-side: a copied session cookie, the remember-me cookie and API tokens stop working at
once; remember-me lasts 30 days at most, checked on the server."""

from datetime import timedelta

from flask import g

from accounts import models
from core.db import utcnow
from tests import factories as f


def _cookie(client, name):
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _copy(app, **cookies):
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief


def test_a_copied_session_cookie_stops_working_after_sign_out(app, client):
    f.resident("13800000001")
    f.commit()
    client.login("13800000001")
    thief = _copy(app, session=_cookie(client, "session"))
    assert thief.get("/account").status_code == 200
    client.post("/logout")
    assert thief.get("/account").status_code == 302


def test_a_copied_remember_me_cookie_stops_working_after_sign_out(app, client):
    f.resident("13800000001")
    f.commit()
    client.post("/login", data={"login": "13800000001", "password": f.PASSWORD, "remember": "y"})
    thief = _copy(app, remember_token=_cookie(client, "remember_token"))
    assert thief.get("/account").status_code == 200  # the remember-me cookie alone signs in
    client.post("/logout")
    assert _copy(app, remember_token=thief.get_cookie("remember_token").value).get("/account").status_code == 302


def test_api_tokens_end_when_the_user_signs_out(app, client):
    f.resident("13800000001")
    f.commit()
    token = client.post("/api/v1/auth/token", json={"login": "13800000001", "password": f.PASSWORD}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    client.login("13800000001")
    client.post("/logout")
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 401


def test_remember_me_lasts_thirty_days_at_most(app, client):
    assert app.config["REMEMBER_COOKIE_DURATION"] <= timedelta(days=30)
    f.resident("13800000001")
    f.commit()
    response = client.post("/login", data={"login": "13800000001", "password": f.PASSWORD, "remember": "y"})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "Expires=" in cookie


def test_a_session_older_than_thirty_days_is_refused_on_the_server(app, client, monkeypatch):
    f.resident("13800000001")
    f.commit()
    long_ago = utcnow() - timedelta(days=31)
    monkeypatch.setattr(models, "utcnow", lambda: long_ago)  # the session id is stamped 31 days ago
    client.post("/login", data={"login": "13800000001", "password": f.PASSWORD, "remember": "y"})
    monkeypatch.undo()
    assert _copy(app, remember_token=_cookie(client, "remember_token")).get("/account").status_code == 302
    assert client.get("/account").status_code == 302


def test_signing_out_on_one_device_signs_out_the_others_too(app, client):
    f.resident("13800000001")
    f.commit()
    other = app.test_client()
    other.login("13800000001")
    g.pop("csrf_token", None)  # the tests' shared app context would hand the first client's token on
    client.login("13800000001")
    client.post("/logout")
    assert other.get("/account").status_code == 302
