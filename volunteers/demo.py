"""Demo data: approved volunteers with the city's teams, tasks past and coming, service recorded at the door."""


def seed(now=None) -> None:
    from volunteers import demo_data

    demo_data.seed(now)
