"""volunteers: culture volunteering (文化志愿服务): registration, tasks, sign-ups, service recorded at the door, hours.

See docs/volunteers.md. The door (`checkin`) sits below this package: it admits a volunteer's task ticket
(kind 'V') through a handler registered in the composition root, so checkin never imports volunteers.
"""
