"""One state-machine style for every aggregate (DESIGN: domain).

Each aggregate declares an enum of its states and one transitions table, a
``StateMachine``; every change of state goes through ``check`` (or ``move``), so the legal
transitions of an aggregate stand in one place and an illegal one is always the same
``Conflict`` (HTTP 409) naming the aggregate, the current state and the wanted one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Generic, TypeVar

from services.common.errors import Conflict

S = TypeVar("S", bound=Enum)


class StateMachine(Generic[S]):
    def __init__(self, name: str, transitions: Mapping[S, Iterable[S]]):
        self.name = name
        self.transitions: dict[S, frozenset[S]] = {
            state: frozenset(targets) for state, targets in transitions.items()
        }

    def allowed(self, current: S, target: S) -> bool:
        return target in self.transitions.get(current, frozenset())

    def is_final(self, state: S) -> bool:
        return not self.transitions.get(state)

    def check(self, current: S, target: S, detail: str | None = None) -> S:
        """Return ``target`` when ``current → target`` is legal, else raise ``Conflict``."""
        if not self.allowed(current, target):
            raise Conflict(detail or f"{self.name} is {_v(current)}: it cannot become "
                                     f"{_v(target)}")
        return target


def _v(state: Enum) -> str:
    return str(state.value)
