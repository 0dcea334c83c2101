"""Registration, one-card numbers, login by phone / card / e-mail, lockout, passwords."""

from datetime import timedelta

import pytest

from accounts import services, signin
from accounts.models import User, card_number_for, is_valid_card_number, mask_phone
from core.db import utcnow
from core.errors import Invalid
from core.extensions import db
from tests import factories as f


def test_a_resident_gets_a_card_number_with_a_valid_check_digit(app):
    user = f.resident("13800000001")
    assert user.card_number == card_number_for(user.id)
    assert is_valid_card_number(user.card_number)
    assert not is_valid_card_number(user.card_number[:-1] + str((int(user.card_number[-1]) + 1) % 10))


def test_registration_creates_a_self_participant(app):
    user = f.resident("13800000001", name="李建国", birth_year=1985)
    assert [(p.name, p.relation.value, p.birth_year) for p in user.participants] == [("李建国", "self", 1985)]


@pytest.mark.parametrize("login", ["13800000001", "+86 138-0000-0001", "card", "li@example.com"])
def test_login_works_with_phone_card_number_or_email(app, login):
    user = f.resident("13800000001", email="li@example.com")
    f.commit()
    login = user.card_number if login == "card" else login
    assert signin.authenticate(login, f.PASSWORD).id == user.id


def test_wrong_password_and_unknown_login_give_the_same_answer(app):
    f.resident("13800000001")
    with pytest.raises(signin.LoginFailed) as wrong:
        signin.authenticate("13800000001", "not-the-password")
    with pytest.raises(signin.LoginFailed) as unknown:
        signin.authenticate("13999999999", "not-the-password")
    assert str(wrong.value.message) == str(unknown.value.message)


def test_too_many_failures_lock_the_account_with_a_clear_wait(app):
    user = f.resident("13800000001")
    now = utcnow()
    for _ in range(5):
        with pytest.raises(signin.LoginFailed):
            signin.authenticate("13800000001", "bad-password", now=now)
    with pytest.raises(signin.AccountLocked) as locked:
        signin.authenticate("13800000001", f.PASSWORD, now=now)
    assert locked.value.extra["retry_after_minutes"] == 15
    assert signin.authenticate("13800000001", f.PASSWORD, now=now + timedelta(minutes=16)).id == user.id


@pytest.mark.parametrize("phone", ["12345", "23800000001", "1380000000a", ""])
def test_invalid_phone_is_refused_and_nothing_is_stored(app, phone):
    with pytest.raises(Invalid) as err:
        services.register_resident(name="王丽", phone=phone, password=f.PASSWORD)
    assert "phone" in err.value.extra["fields"]
    assert db.session.query(User).count() == 0


def test_duplicate_phone_is_refused_and_the_first_account_is_untouched(app):
    first = f.resident("13800000001", name="张秀兰")
    f.commit()
    with pytest.raises(services.Duplicate):
        services.register_resident(name="冒名", phone="13800000001", password="another-pass")
    db.session.rollback()
    assert db.session.get(User, first.id).name == "张秀兰"
    assert db.session.query(User).count() == 1


def test_password_change_signs_out_other_sessions(app):
    user = f.resident("13800000001")
    old_session_id = user.get_id()
    services.change_password(user, current=f.PASSWORD, new="new-password-1")
    assert user.get_id() != old_session_id
    assert signin.authenticate("13800000001", "new-password-1").id == user.id


def test_short_new_password_is_refused(app):
    user = f.resident("13800000001")
    with pytest.raises(Invalid) as err:
        services.change_password(user, current=f.PASSWORD, new="short")
    assert "new_password" in err.value.extra["fields"]


def test_phones_are_masked_for_staff():
    assert mask_phone("13800000001") == "138****0001"
