"""Demo data: residents' ratings of sessions they attended."""


def seed(now=None) -> None:
    pass
