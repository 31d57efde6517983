"""The conversion funnel of a quote cohort: how many quotes went on to each step, what they
were worth, and how long each step took. Pure: the store builds the journeys."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum

from .analytics import Amounts
from .rollups import Tally

# Quotes in one cohort at most: the funnel reads the cohort's documents, so its cost follows
# the cohort; a wider question should use a shorter range.
MAX_COHORT = 20000


class Step(str, Enum):
    CREATED = "created"
    SENT = "sent"
    ACCEPTED = "accepted"
    ORDER_CONFIRMED = "order_confirmed"
    INVOICED = "invoiced"
    PAID = "paid"


STEPS = list(Step)


@dataclass(frozen=True)
class Reached:
    moment: datetime
    value: Decimal


@dataclass
class Journey:
    """One quote (all revisions of its number): the steps it reached, with when and the value
    at that step (the quote's, the order's, the invoices', the payments')."""

    currency: str
    steps: dict[Step, Reached] = field(default_factory=dict)

    def path(self) -> list[Reached]:
        """The steps reached in order, up to the first one missed: a step counts only after
        the one before it."""
        out = []
        for step in STEPS:
            if step not in self.steps:
                break
            out.append(self.steps[step])
        return out


@dataclass(frozen=True)
class Stage:
    step: Step
    count: int
    values: Amounts
    median_seconds: float | None  # from the step before; None for CREATED or nobody


def funnel(journeys: list[Journey]) -> list[Stage]:
    stages = []
    paths = [(j.currency, j.path()) for j in journeys]
    for i, step in enumerate(STEPS):
        values: Amounts = {}
        waits = []
        for currency, path in paths:
            if len(path) > i:
                values.setdefault(currency, Tally()).add(path[i].value, 1)
                if i:
                    waits.append((path[i].moment - path[i - 1].moment).total_seconds())
        stages.append(Stage(step, sum(t.count for t in values.values()),
                            dict(sorted(values.items())),
                            statistics.median(waits) if waits else None))
    return stages
