"""feedback: what residents think (满意度): a rating after a session they attended, and the figures.

Ratings of activities (here) and of service orders (`orders`, rated by who ordered) feed one satisfaction
report by venue, district, category and month; see docs/volunteers.md (satisfaction).
"""
