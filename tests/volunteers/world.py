"""A small volunteering world: a network, an approved volunteer, a task at the station, staff at each level."""

from datetime import timedelta
from types import SimpleNamespace

from accounts.models import Role
from tests import activity_factories as af
from tests import factories as f
from volunteers import services


def task_data(venue, *, starts_in=timedelta(days=2), hours=3, places=2, **extra) -> dict:
    start = af.now() + starts_in
    return {
        "venue": venue,
        "title": "展厅讲解",
        "duties": "引导观众",
        "starts_at": start,
        "ends_at": start + timedelta(hours=hours),
        "places": places,
        "skills": ["guiding"],
        **extra,
    }


def build(*, places=2, starts_in=timedelta(days=2), hours=3) -> SimpleNamespace:
    net = f.network()
    staff = f.staff(net["station"])
    door = f.staff(net["station"], Role.checkin)
    sibling = f.staff(net["sibling"])
    resident = f.resident(name="王志愿", birth_year=1980)
    volunteer = services.register_volunteer(
        resident, data={"venue": net["station"], "skills": ["guiding"], "availability": ["weekend"]}
    )
    services.approve_volunteer(volunteer, actor=staff)
    task = services.create_task(
        data=task_data(net["station"], places=places, starts_in=starts_in, hours=hours), actor=staff
    )
    f.commit()
    return SimpleNamespace(
        net=net, staff=staff, door=door, sibling=sibling, resident=resident, volunteer=volunteer, task=task
    )
