"""Signals that let packages above `accounts` react without `accounts` importing them."""

from blinker import Namespace

signals = Namespace()

# sender: the User; receivers return (section_name, jsonable data) for the personal-data download.
personal_data_requested = signals.signal("personal-data-requested")
# sender: the User, after anonymisation (kwarg now); receivers cancel future bookings and the like.
account_deleted = signals.signal("account-deleted")
