"""A document type's lifecycle: typed states, the moves between them, and the history each
move leaves. Orders use it now; quotes, invoices and credit notes declare their own tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Generic, TypeVar

from ..errors import FailedPrecondition, PreconditionViolation

S = TypeVar("S", bound=Enum)
A = TypeVar("A", bound=Enum)


@dataclass(frozen=True)
class Step(Generic[S]):
    """A move: the states it may start from and the state it leads to."""

    sources: frozenset[S]
    target: S


@dataclass(frozen=True)
class HistoryEntry(Generic[A, S]):
    """One change of a document, kept in its own collection. `action` is the document type's
    action enum; `from_state` is None for the creating entry."""

    document_id: str
    action: A
    from_state: S | None
    to_state: S
    actor: str
    time: datetime
    note: str = ""


class StateMachine(Generic[A, S]):
    """The allowed moves of one document type, keyed by action."""

    def __init__(self, kind: str, resource: str, steps: Mapping[A, Step[S]]) -> None:
        self.kind = kind  # "order", for messages
        self.resource = resource  # "salesOrders", for error subjects (AIP-122 names)
        self.steps = dict(steps)

    def target(self, action: A, state: S, document_id: str, number: str) -> S:
        """Where `action` leads from `state`; FAILED_PRECONDITION naming the current state
        when the move is not allowed from it."""
        step = self.steps[action]
        if state in step.sources:
            return step.target
        names = " or ".join(sorted(s.name for s in step.sources))
        verb = str(action.value).replace("_", " ")
        raise FailedPrecondition(
            f"{self.kind} {number} is {state.name}; only a {names} {self.kind} can be {verb}",
            reason="INVALID_STATE_TRANSITION",
            metadata={"current_state": state.name, "action": str(action.value)},
            violations=[PreconditionViolation("STATE", f"{self.resource}/{document_id}",
                                              f"current state is {state.name}")])
