"""The commission report: per rep and currency, the base each rule applied to and the
commission, with a line per document, exact to the minor unit.

A tiered rule's tiers measure the base it applies to within the report's days, so a plan is
reported once per commission period (a month, a quarter). Each rule's commission is
computed on its whole base and rounded once, half-up; a document's line is what it added to
that rounded commission, taking the documents in date order: round(c(base so far with it))
- round(c(base so far without it)). The lines of a rule therefore add up to its commission
exactly, whatever the amounts, a line that crosses into a higher tier earns the higher rate
for the part above the threshold, and a clawback takes back at the rate it falls in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .commission_facts import BaseLine, DocumentKind
from .commissions import CommissionBasis, CommissionPlan, CommissionRule, Sale
from .money import Money, at_minor, round_to_minor


@dataclass(frozen=True)
class CommissionLine:
    kind: DocumentKind
    document_id: str
    number: str
    invoice_id: str
    invoice_number: str
    day: date
    rule_id: str
    base: Decimal
    commission: Decimal
    team_id: str  # the document's team


@dataclass(frozen=True)
class RuleCommission:
    rule_id: str
    description: str
    base: Decimal
    commission: Decimal


@dataclass(frozen=True)
class RepCommission:
    owner_id: str
    currency: str
    base: Decimal  # what the rules applied to; the sum of `rules`' bases
    commission: Decimal  # the sum of `rules`' commissions, and of `lines`'
    rules: tuple[RuleCommission, ...]
    lines: tuple[CommissionLine, ...]
    unmatched_base: Decimal = Decimal(0)  # revenue no rule applied to


@dataclass(frozen=True)
class CommissionReport:
    plan_id: str
    plan_name: str
    basis: CommissionBasis
    start: date  # the days reported, both included: the range asked within the plan's
    end: date
    reps: tuple[RepCommission, ...]  # by rep, then currency

    @property
    def totals(self) -> tuple[Money, ...]:
        """The commission per currency, never mixed."""
        summed: dict[str, Decimal] = {}
        for rep in self.reps:
            summed[rep.currency] = summed.get(rep.currency, Decimal(0)) + rep.commission
        return tuple(Money(c, a) for c, a in sorted(summed.items()))


def report(plan: CommissionPlan, start: date, end: date, bases: Iterable[BaseLine]
           ) -> CommissionReport:
    """The plan's commission on `bases` (dated start..end, within the plan's days)."""
    grouped: dict[tuple[str, str], dict[str, list[BaseLine]]] = {}
    unmatched: dict[tuple[str, str], Decimal] = {}
    rules: dict[str, CommissionRule] = {}
    for x in bases:
        who = (x.owner_id, x.currency)
        rule = plan.rule_for(Sale(x.owner_id, x.team_id, x.category, x.currency, x.day))
        if rule is None:
            unmatched[who] = unmatched.get(who, Decimal(0)) + x.base
            continue
        rules[rule.id] = rule
        grouped.setdefault(who, {}).setdefault(rule.id, []).append(x)
    reps = []
    for who in sorted(set(grouped) | set(unmatched)):
        applied = [_rule_lines(rules[rule_id], group)
                   for rule_id, group in sorted(grouped.get(who, {}).items())]
        lines = sorted((line for _, ls in applied for line in ls),
                       key=lambda x: (x.day, x.number, x.rule_id))
        summary = tuple(r for r, _ in applied)
        reps.append(RepCommission(
            who[0], who[1], sum((r.base for r in summary), Decimal(0)),
            sum((r.commission for r in summary), Decimal(0)), summary, tuple(lines),
            unmatched.get(who, Decimal(0))))
    return CommissionReport(plan.id, plan.name, plan.basis, start, end, tuple(reps))


def _rule_lines(rule: CommissionRule, bases: list[BaseLine]
                ) -> tuple[RuleCommission, list[CommissionLine]]:
    currency = bases[0].currency
    documents: dict[tuple[date, str, str], list[BaseLine]] = {}
    for x in bases:
        documents.setdefault((x.day, x.number, x.document_id), []).append(x)
    so_far, earned = Decimal(0), Decimal(0)
    lines = []
    for key in sorted(documents):
        parts = documents[key]
        base = sum((p.base for p in parts), Decimal(0))
        after = round_to_minor(rule.commission(so_far + base), currency)
        first = parts[0]
        lines.append(CommissionLine(first.kind, first.document_id, first.number,
                                    first.invoice_id, first.invoice_number, first.day, rule.id,
                                    base, after - earned, first.team_id))
        so_far, earned = so_far + base, after
    return RuleCommission(rule.id, rule.describe(), so_far, earned), lines


# The columns of the built-in `commissions` report (services/report_catalog.py types them):
# a row per document line of the report, rep by rep and currency by currency as
# GetCommissionReport lists them, so that its `commission` column adds up to the report's
# totals per currency.
LINE_COLUMNS = ("owner_id", "team_id", "currency", "rule_id", "rule", "kind", "document_id",
                "number", "invoice_id", "invoice_number", "day", "base", "commission")


def line_rows(report: CommissionReport) -> Iterator[list[object]]:
    """The report's document lines as rows of LINE_COLUMNS, amounts to the minor unit."""
    for rep in report.reps:
        c = rep.currency
        described = {r.rule_id: r.description for r in rep.rules}
        for x in rep.lines:
            yield [rep.owner_id, x.team_id, c, x.rule_id, described[x.rule_id], x.kind.value,
                   x.document_id, x.number, x.invoice_id, x.invoice_number, x.day,
                   at_minor(x.base, c), at_minor(x.commission, c)]
