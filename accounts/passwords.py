"""Password hashing: Argon2id, a cheap profile for tests, and a dummy hash so unknown logins cost the same."""

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from accounts.models import User

_hashers = {"default": PasswordHasher(), "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)}


def _hasher() -> PasswordHasher:
    """Argon2id; tests may choose a cheap profile (PASSWORD_HASH_PROFILE=fast) to stay quick."""
    return _hashers[current_app.config.get("PASSWORD_HASH_PROFILE", "default")]


_dummy_hashes: dict[int, str] = {}


def dummy_hash() -> str:
    """A hash to check unknown logins against, so they cost what a real account costs (no timing oracle)."""
    hasher = _hasher()
    if id(hasher) not in _dummy_hashes:
        _dummy_hashes[id(hasher)] = hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hashes[id(hasher)]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    return verify_hash(user.password_hash, password)


def verify_hash(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
