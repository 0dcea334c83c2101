"""Pages of the service menu and orders."""

from flask import Blueprint

bp = Blueprint("orders", __name__)
