def seed(now=None) -> None:
    pass
