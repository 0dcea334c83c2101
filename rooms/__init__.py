"""Room reservations: groups reserve rooms, staff approve, the room-taking rule makes conflicts impossible."""
