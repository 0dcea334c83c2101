"""Which venues a message belongs to, so that staff see (and resend) only the failed messages of their scope.

notify does not know venues: each domain registers, for the first segment of its dedupe keys
("booking", "order", "room-reservation"), a resolver from object ids to the tree paths of the venues the
object belongs to. A message whose key no resolver knows (a suspension, an export) belongs to no venue:
only a scope over the whole network (an admin) sees it.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable

Resolver = Callable[[list[int]], dict[int, list[str]]]
_RESOLVERS: dict[str, Resolver] = {}


def register(kind: str, resolver: Resolver) -> None:
    """`resolver(ids)` → {id: [venue tree path, ...]} for the objects behind keys `kind:<id>:...`."""
    _RESOLVERS[kind] = resolver


def _parse(key: str) -> tuple[str, int] | None:
    kind, _sep, rest = key.partition(":")
    object_id = rest.split(":", 1)[0]
    return (kind, int(object_id)) if object_id.isdigit() else None


def venue_paths(keys: Iterable[tuple[int, str]]) -> dict[int, list[str]]:
    """For (message id, dedupe key) pairs: message id → the venue paths of its object (empty if none known)."""
    wanted: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    out: dict[int, list[str]] = {}
    for message_id, key in keys:
        out[message_id] = []
        parsed = _parse(key or "")
        if parsed and parsed[0] in _RESOLVERS:
            wanted[parsed[0]][parsed[1]].append(message_id)
    for kind, by_object in wanted.items():
        for object_id, paths in _RESOLVERS[kind](list(by_object)).items():
            for message_id in by_object.get(object_id, []):
                out[message_id] = list(paths)
    return out


def reaches(prefixes: list[str], paths: list[str]) -> bool:
    """Whether a scope (tree-path prefixes; "/" is the whole network) covers one of the object's venues."""
    if "/" in prefixes:
        return True
    return any(path.startswith(prefix) for path in paths for prefix in prefixes)
