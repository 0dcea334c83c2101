"""The HTML account flow: register, sign in and out, family members, data download, deletion."""

from accounts.models import User
from core.extensions import db
from tests import factories as f


def test_register_page_creates_the_account_and_signs_in(client):
    response = client.post(
        "/register",
        data={"name": "王丽", "phone": "13800000003", "birth_year": "1996", "password": "secret123", "consent": "y"},
    )
    assert response.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    user = db.session.query(User).filter_by(phone="13800000003").one()
    assert user.card_number in page


def test_register_page_shows_field_errors_and_stores_nothing(client):
    response = client.post("/register", data={"name": "王丽", "phone": "12", "password": "secret123"})
    assert response.status_code == 422
    assert db.session.query(User).count() == 0


def test_a_form_without_csrf_token_is_refused(client):
    response = client.post(
        "/register", data={"name": "王丽", "phone": "13800000003", "password": "secret123"}, csrf=False
    )
    assert response.status_code == 400
    assert db.session.query(User).count() == 0


def test_login_failure_says_so_without_revealing_whether_the_account_exists(client):
    f.resident("13800000001")
    f.commit()
    wrong = client.post("/login", data={"login": "13800000001", "password": "nope-nope"})
    unknown = client.post("/login", data={"login": "13811111111", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401


def test_repeated_failures_for_an_unknown_login_lock_it_like_an_account(client):
    f.resident("13800000001")
    f.commit()
    statuses = [client.post("/login", data={"login": "13899999999", "password": "x"}).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


def test_account_page_needs_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_resident_adds_a_family_member(client):
    user = f.resident("13800000001")
    f.commit()
    client.login("13800000001")
    response = client.post(
        "/account/participants",
        data={"name": "王小明", "birth_year": "2016", "relation": "grandchild", "gender": "male"},
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert [p.name for p in user.participants] == ["张秀兰", "王小明"]


def test_personal_data_download_has_the_account_and_family(client):
    f.resident("13800000001")
    f.commit()
    client.login("13800000001")
    data = client.get("/account/data.json").get_json()
    assert data["account"]["phone"] == "13800000001"
    assert data["participants"][0]["relation"] == "self"


def test_deleting_the_account_anonymises_it_and_signs_out(client):
    user = f.resident("13800000001")
    f.commit()
    client.login("13800000001")
    response = client.post("/account/delete", data={"password": f.PASSWORD})
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.phone is None and not user.is_active and user.deleted_at is not None
    assert all(p.name != "张秀兰" for p in user.participants)
    assert client.get("/account").status_code == 302


def test_deleting_needs_the_right_password(client):
    f.resident("13800000001")
    f.commit()
    client.login("13800000001")
    assert client.post("/account/delete", data={"password": "wrong-one"}).status_code == 422
    assert db.session.query(User).filter_by(phone="13800000001").one().is_active
