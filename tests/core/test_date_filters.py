"""The template date filters give exactly flask_babel's output, in the network's zone, in each language."""

from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale, format_date, format_datetime, format_time


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_remembered_filters_format_like_flask_babel(app, locale):
    env = app.jinja_env
    moments = [datetime(2027, 3, 1, 1, 30, tzinfo=UTC), datetime(2027, 6, 30, 23, 59, tzinfo=UTC)]
    with app.test_request_context("/"), force_locale(locale):
        for moment in moments:
            for fmt in ("short", "medium", "long"):
                assert env.filters["dt"](moment, fmt) == format_datetime(moment, fmt)
                assert env.filters["t"](moment, fmt) == format_time(moment, fmt)
            assert env.filters["d"](moment.date()) == format_date(moment.date())
        assert env.filters["dt"](None) == "" and env.filters["d"](date(2027, 1, 1), "short") == format_date(
            date(2027, 1, 1), "short"
        )
        # 2027-06-30 23:59 UTC is already 07:59 on 1 July in Panjin (UTC+8)
        assert env.filters["t"](moments[1], "HH:mm") == "07:59"
        assert env.filters["dt"](moments[1], "yyyy-MM-dd") == "2027-07-01"
