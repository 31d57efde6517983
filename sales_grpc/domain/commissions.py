"""Commission plans: rules by rep or team, product category and dates, each a flat rate or
marginal tiers, and which rule applies to a sale.

Which rule applies when several match a sale (its rep, team, category, currency and day):
the most specific one, where a rule for the rep beats a rule for the rep's team and, between
those, a rule for the sale's category beats one for any category; then the one that started
latest (a rule's start is the plan's when it names none); then the one listed first.

Tiers are marginal, like tax brackets: each tier's rate applies only to the part of the base
that falls in [from, to) of that tier, so 1,500 over tiers 0-1,000 at 5% and 1,000- at 8% earns
50 + 40. The arithmetic is exact (Decimal); only the report rounds, half-up to the currency's
minor unit (money.round_to_minor).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum

from .records import Audit, Versioned


class CommissionBasis(str, Enum):
    """BILLINGS: invoiced sales when issued. COLLECTIONS: the share of them paid, when paid."""

    BILLINGS = "BILLINGS"
    COLLECTIONS = "COLLECTIONS"


@dataclass(frozen=True)
class Tier:
    start: Decimal  # "from", included
    end: Decimal | None  # "to", excluded; None: no upper bound
    rate: Decimal


@dataclass(frozen=True)
class Sale:
    """What a rule is matched against: one part of a sale's base."""

    owner_id: str
    team_id: str
    category: str
    currency: str
    day: date


@dataclass(frozen=True)
class CommissionRule:
    id: str
    owner_id: str = ""  # a rule names a rep or a team, never both
    team_id: str = ""
    category: str = ""  # empty: any category
    currency: str = ""  # empty: any currency (flat rules only; tiers are amounts in it)
    start_date: date | None = None  # None: the plan's
    end_date: date | None = None  # included; None: open
    rate: Decimal | None = None  # flat; else tiers
    tiers: tuple[Tier, ...] = ()

    def matches(self, sale: Sale) -> bool:
        who = (sale.owner_id == self.owner_id if self.owner_id
               else sale.team_id == self.team_id)
        return (who and self.category in ("", sale.category)
                and self.currency in ("", sale.currency)
                and (self.start_date is None or sale.day >= self.start_date)
                and (self.end_date is None or sale.day <= self.end_date))

    def commission(self, base: Decimal) -> Decimal:
        """The exact commission on `base`. A negative base (more clawed back than sold in the
        period) earns a negative commission at the first tier's rate."""
        if self.rate is not None:
            return base * self.rate
        if base < 0:
            return base * self.tiers[0].rate
        earned = Decimal(0)
        for tier in self.tiers:
            top = base if tier.end is None else min(base, tier.end)
            if top > tier.start:
                earned += (top - tier.start) * tier.rate
        return earned

    def describe(self) -> str:
        who = f"rep {self.owner_id}" if self.owner_id else f"team {self.team_id}"
        what = f", category {self.category}" if self.category else ""
        if self.rate is not None:
            how = f"{_percent(self.rate)} flat"
        else:
            how = "tiers " + ", ".join(
                f"{_percent(t.rate)} from {t.start}" for t in self.tiers) + f" {self.currency}"
        return f"{who}{what}: {how}"


def _percent(rate: Decimal) -> str:
    """Exact: 0.033333 is 3.3333%, not 3.33%."""
    return f"{(rate * 100).normalize():f}%"


@dataclass
class CommissionPlan(Versioned):
    id: str
    name: str
    owner_id: str  # who created it
    team_id: str  # the team whose managers may manage it; empty: company-wide (admins)
    basis: CommissionBasis
    start_date: date
    end_date: date | None  # included; None: open
    rules: tuple[CommissionRule, ...]
    audit: Audit
    description: str = field(default="")

    def covers(self, first: date, last: date) -> tuple[date, date] | None:
        """The part of first..last (both included) the plan is active in, if any."""
        start = max(first, self.start_date)
        end = last if self.end_date is None else min(last, self.end_date)
        return (start, end) if start <= end else None

    def rule_for(self, sale: Sale) -> CommissionRule | None:
        """The rule that applies to `sale`, by the order the module docstring gives."""
        best: CommissionRule | None = None
        best_key: tuple[int, int, date] | None = None
        for rule in self.rules:
            if not rule.matches(sale):
                continue
            key = (1 if rule.owner_id else 0, 1 if rule.category else 0,
                   rule.start_date or self.start_date)
            if best_key is None or key > best_key:  # ties keep the one listed first
                best, best_key = rule, key
        return best
