"""The sales document every type builds on: lines priced by one rule, totals, an owner and team,
a state moved only by its type's state machine, and optimistic versioning."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar

from ..access import Principal
from ..pricing import Totals
from ..records import Audit, Versioned
from .lifecycle import HistoryEntry, StateMachine
from .lines import DocumentLine, reprice, totals_of

S = TypeVar("S", bound=Enum)


@dataclass
class SalesDocument(Versioned, Generic[S]):
    id: str
    number: str
    customer_id: str
    currency: str
    lines: list[DocumentLine]
    discount_rate: Decimal
    shipping: Decimal
    totals: Totals
    owner_id: str
    team_id: str
    audit: Audit
    state: S
    notes: str = ""
    # When the document entered each state it has been in: the timestamps a move sets.
    entered: dict[S, datetime] = field(default_factory=dict)

    def machine(self) -> StateMachine[Any, S]:
        raise NotImplementedError  # each document type names its lifecycle

    def move(self, action: Enum, principal: Principal, now: datetime, note: str = ""
             ) -> HistoryEntry[Any, S]:
        """Moves to the state `action` leads to, or FAILED_PRECONDITION naming the current
        state; returns the history entry the move leaves. The caller saves the change (and
        touches the document once for it: DocumentWorkflow does)."""
        target = self.machine().target(action, self.state, self.id, self.number)
        entry = HistoryEntry(self.id, action, self.state, target, principal.subject, now, note)
        self.state = target
        self.entered[target] = now
        return entry

    def record(self, action: Enum, principal: Principal, now: datetime, note: str = ""
               ) -> HistoryEntry[Any, S]:
        """A history entry for a change that keeps the state (an edit, an approval)."""
        return HistoryEntry(self.id, action, self.state, self.state, principal.subject, now,
                            note)

    def touch(self, principal: Principal, now: datetime) -> None:
        self.audit = self.audit.touched(principal.subject, now)
        self.version += 1

    def reprice(self) -> None:
        """Prices every line by the one rule and sums the totals; call after any change to
        lines, discount or shipping."""
        self.lines = reprice(self.lines, self.discount_rate, self.currency)
        self.totals = totals_of(self.lines, self.shipping)
