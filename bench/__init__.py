"""Benchmarks (not tests): `make bench` runs them against gunicorn on PostgreSQL and records the figures."""
