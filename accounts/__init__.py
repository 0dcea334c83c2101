"""Residents, staff, roles and venue scopes, family members, one-card numbers, login and tokens."""
