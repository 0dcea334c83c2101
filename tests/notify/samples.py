"""A context for every message kind, exactly the variables its template header documents."""

from datetime import UTC, datetime, timedelta

STARTS = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)  # 14:30 in Asia/Shanghai
EVENT = {
    "uid": "session-7@culturenet",
    "title": "京剧入门体验课",
    "starts_at": STARTS,
    "ends_at": STARTS + timedelta(hours=2),
    "location": "东风镇文化站 排练厅",
}
SESSION = {"activity_title": "京剧入门体验课", "session_starts_at": STARTS, "venue_name": "东风镇文化站"}

SAMPLES: dict[str, dict] = {
    "booking_confirmed": {**SESSION, "code": "K7P2QX", "url": "https://example.org/bookings/1", "event": EVENT},
    "booking_waitlisted": {**SESSION, "position": 3},
    "lottery_entered": {
        "activity_title": "京剧入门体验课",
        "venue_name": "东风镇文化站",
        "draw_at": STARTS - timedelta(days=3),
    },
    "lottery_won": {**SESSION, "code": "K7P2QX", "event": EVENT},
    "lottery_lost": {"activity_title": "京剧入门体验课"},
    "offer_made": {**SESSION, "offer_expires_at": STARTS - timedelta(hours=20)},
    "offer_expired": {"activity_title": "京剧入门体验课"},
    "booking_approved": {**SESSION, "code": "K7P2QX", "event": EVENT},
    "booking_rejected": {"activity_title": "京剧入门体验课", "reason": "年龄不符合要求"},
    "session_moved": {**SESSION, "old_starts_at": STARTS - timedelta(days=1), "event": EVENT},
    "session_cancelled": {**SESSION, "reason": "场馆停电检修"},
    "reminder_24h": {**SESSION, "code": "K7P2QX", "event": EVENT},
    "reminder_2h": {**SESSION, "code": "K7P2QX"},
    "suspended": {"suspended_until": STARTS + timedelta(days=30), "reason": "三次未到场"},
    "suspension_lifted": {},
    "room_reservation_approved": {
        "room_name": "排练厅",
        "venue_name": "东风镇文化站",
        "starts_at": STARTS,
        "ends_at": STARTS + timedelta(hours=2),
        "event": EVENT,
        "code": "K7MX4Q2B",
    },
    "room_reservation_rejected": {
        "room_name": "排练厅",
        "venue_name": "东风镇文化站",
        "starts_at": STARTS,
        "reason": "当天已有演出",
    },
    "order_status": {"order_title": "送戏下乡：评剧专场", "status": "scheduled", "session_starts_at": STARTS},
}
