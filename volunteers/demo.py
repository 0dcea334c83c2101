"""Demo data for volunteering (`flask demo seed`): the demo residents are culture volunteers of the hub's
team ("文化志愿手牵手"), one registration waits for approval, past tasks have service recorded at the door
(checked in and out), and tasks in the coming days have places to sign up for.

Idempotent: nothing is added when a task with a demo title exists already.
"""

import logging
from datetime import time, timedelta

from sqlalchemy import select

from accounts.services import find_by_login
from core.db import utcnow
from core.errors import DomainError
from core.extensions import db
from core.i18n import local_datetime, local_today
from venues.models import Venue
from volunteers import services
from volunteers.models import VolunteerTask

log = logging.getLogger(__name__)
# (days from now, venue key, title, hours, places, skills)
TASKS = [
    (-40, "hub", "“文化志愿手牵手”展厅讲解", 3, 4, ["guiding"]),
    (-26, "hub", "公益电影放映秩序引导", 2, 4, ["stewarding"]),
    (-12, "hub", "“情系农民工”慰问演出", 4, 6, ["performing", "technical"]),
    (-5, "hub", "少儿书法课助教", 2, 3, ["teaching"]),
    (3, "hub", "周末非遗展讲解", 3, 4, ["guiding"]),
    (6, "hub", "送文化下乡演出保障", 5, 6, ["technical", "stewarding"]),
]
SKILLS = [["guiding", "writing"], ["performing"], ["teaching", "guiding"], ["stewarding", "first_aid"]]


def seed(scale: int = 1) -> list[tuple[str, str, str]]:
    from venues.demo import RESIDENTS

    actor = find_by_login("admin")
    venues = {v.key: v for v in db.session.execute(select(Venue).where(Venue.key.isnot(None))).scalars()}
    if actor is None or "hub" not in venues:
        log.warning("no admin or hub: the volunteering demo is skipped")
        return []
    if db.session.execute(select(VolunteerTask.id).where(VolunteerTask.title == TASKS[0][2])).first():
        return []
    now = utcnow()
    start = now - timedelta(days=60)
    people = []
    for i, (phone, *_rest) in enumerate(RESIDENTS):
        user = find_by_login(phone)
        if user is None:
            continue
        data = {"venue": venues["hub"], "skills": SKILLS[i % len(SKILLS)], "availability": ["weekend"]}
        volunteer = services.register_volunteer(user, data=data, now=start)
        if i < len(RESIDENTS) - 1:
            services.approve_volunteer(volunteer, actor=actor, now=start + timedelta(days=1))
            people.append(user)
    for days, key, title, hours, places, skills in TASKS:
        venue = venues.get(key)
        if venue is None:
            continue
        begins = local_datetime(local_today(now) + timedelta(days=days), time(9))
        published = min(now, begins - timedelta(days=7))
        task = services.create_task(
            data={
                "venue": venue,
                "title": title,
                "duties": "按现场工作人员安排开展服务。",
                "starts_at": begins,
                "ends_at": begins + timedelta(hours=hours),
                "places": places,
                "skills": skills,
            },
            actor=actor,
            now=published,
        )
        for n, user in enumerate(people[: places - 1]):
            try:
                with db.session.begin_nested():
                    signup = services.sign_up(task, user=user, now=published + timedelta(hours=1))
                    if days < 0 and n != 2:  # one no-show per past task
                        payload = services.ticket_payload(signup)
                        services.scan_ticket(payload, actor=actor, now=begins - timedelta(minutes=10))
                        services.scan_ticket(payload, actor=actor, now=begins + timedelta(hours=hours, minutes=5))
            except DomainError as err:
                log.info("volunteer demo %s: %s", title, err.code)
    db.session.flush()
    return []
