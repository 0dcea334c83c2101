"""Per-address limits are generous (a village hall or a carrier-grade NAT address is shared by many people);
the account lockout and the per-phone SMS limits do the real work."""

from tests import factories as f


def test_sixty_people_behind_one_address_can_sign_in_within_a_minute(client):
    for i in range(60):
        f.resident(f"137000000{i:02d}")
    f.commit()
    statuses = [
        client.post(
            "/api/v1/auth/token",
            json={"login": f"137000000{i:02d}", "password": f.PASSWORD},
            environ_base={"REMOTE_ADDR": "10.64.0.1"},
        ).status_code
        for i in range(60)
    ]
    assert statuses == [200] * 60


def test_beyond_the_address_limit_the_answer_is_rate_limited(app, client):
    old = app.config["AUTH_ADDRESS_LIMIT"]
    app.config["AUTH_ADDRESS_LIMIT"] = "3 per minute"
    try:
        statuses = [
            client.post(
                "/api/v1/auth/token",
                json={"login": f"1370000{i:04d}", "password": "x"},
                environ_base={"REMOTE_ADDR": "10.64.0.2"},
            ).status_code
            for i in range(4)
        ]
    finally:
        app.config["AUTH_ADDRESS_LIMIT"] = old
    assert statuses == [401, 401, 401, 429]


def test_the_documented_defaults_are_generous(app):
    from core.config import Config

    config = Config()
    assert config.AUTH_ADDRESS_LIMIT == "60 per minute;1000 per hour"
    assert config.SMS_ADDRESS_LIMIT == "30 per minute;300 per hour"
    assert config.REGISTER_ADDRESS_LIMIT == "30 per minute;300 per hour"
