"""What a client-only installation (`pip install sales-grpc`) lacks: the distributions the
`server` extra brings in, with everything they depend on, less what the core depends on, and
the top-level modules they provide. Read from the installed metadata, so a dependency added to
the extra is refused in the client's tests without anyone listing it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import metadata

from packaging.requirements import Requirement

DIST = "sales-grpc"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(roots: Iterable[tuple[str, frozenset[str]]]) -> set[str]:
    """The distributions the roots (name, extras) need, themselves included."""
    found: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = list(roots)
    while todo:
        name, extras = todo.pop()
        if (canonical(name), extras) in seen:
            continue
        seen.add((canonical(name), extras))
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # an optional dependency for another platform
        found.add(canonical(name))
        for text in requires:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra})
                                     for extra in extras | {""}):
                todo.append((requirement.name, frozenset(requirement.extras)))
    return found


def core_requirements() -> list[Requirement]:
    """The requirements `pip install sales-grpc` installs: those without an extra marker."""
    return [r for r in map(Requirement, metadata.requires(DIST) or [])
            if r.marker is None or r.marker.evaluate({"extra": ""})]


def server_only_distributions() -> set[str]:
    core = closure([(DIST, frozenset())])
    return closure([(DIST, frozenset({"server"}))]) - core


def server_only_modules() -> list[str]:
    """Top-level import names provided only by server-only distributions."""
    server = server_only_distributions()
    core = closure([(DIST, frozenset())])
    return sorted(
        module for module, dists in metadata.packages_distributions().items()
        if any(canonical(d) in server for d in dists)
        and not any(canonical(d) in core for d in dists)
        and module.isidentifier())
