def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    from culturenet import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 1}},
            "INSTANCE_PATH": str(tmp_path),
            "TESTING": True,
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["db"] == "down"
