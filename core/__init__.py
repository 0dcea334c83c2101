"""The ground floor: config, extensions, the database base, errors, i18n, security, API plumbing.

It imports no domain package; the composition root (`culturenet`) builds the app from it and them.
"""
