"""Personal data: the download lists a resident's groups and reservations; deletion frees their rooms."""

from accounts import services as accounts
from rooms.models import ReservationStatus
from tests.rooms.fixtures import DAY, at


def test_the_personal_data_download_lists_groups_and_reservations(net, reserve):
    reserve(at(DAY, 9), at(DAY, 11))
    data = accounts.export_personal_data(net["resident"])["room_reservations"]
    assert data["groups"][0]["name"] == "东风合唱团"
    assert [r["status"] for r in data["reservations"]] == ["pending"]


def test_deleting_the_account_cancels_future_reservations_and_erases_group_contacts(net, reserve):
    past = reserve(at(DAY, 9), at(DAY, 11))
    future = reserve(at(DAY, 14), at(DAY, 16))
    accounts.delete_account(net["resident"], now=at(DAY, 12))
    assert past.status == ReservationStatus.pending  # past: kept for the statistics
    assert future.status == ReservationStatus.cancelled and not future.occupancy.is_active
    assert future.group.contact_phone == "" and future.group.contact_name != "王丽"
