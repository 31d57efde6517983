"""Commission plan and report messages to domain values and back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from erp.sales.v1 import commission_pb2 as pb

from ...domain.commission_input import PlanInput, RuleInput, TierInput
from ...domain.commission_report import CommissionReport, RepCommission
from ...domain.commissions import CommissionBasis, CommissionPlan, CommissionRule
from ...domain.errors import Violations
from .common import audit_out, minor_money_out, only_masked

BASES = {pb.COMMISSION_BASIS_BILLINGS: CommissionBasis.BILLINGS,
         pb.COMMISSION_BASIS_COLLECTIONS: CommissionBasis.COLLECTIONS}
BASIS_NUMBERS = {basis: number for number, basis in BASES.items()}


def plan_in(message: pb.CommissionPlan, mask: Sequence[str] | None = None) -> PlanInput:
    """The plan's values as text: the domain checks them all, with field paths. An unknown
    basis number reads as empty, which the domain refuses on `commission_plan.basis`."""
    v = Violations()
    only_masked(v, "commission_plan", mask)
    v.raise_if_any()
    basis = BASES.get(message.basis)
    return PlanInput(
        name=message.name, description=message.description,
        basis=basis.value if basis else "", start_date=message.start_date,
        end_date=message.end_date,
        rules=tuple(RuleInput(
            id=r.id, owner_id=r.owner_id, team_id=r.team_id, category=r.category,
            currency=r.currency_code, start_date=r.start_date, end_date=r.end_date,
            rate=r.rate, tiers=tuple(TierInput(t.from_amount, t.to_amount, t.rate)
                                     for t in r.tiers))
            for r in message.rules))


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _text(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def rule_out(rule: CommissionRule) -> pb.CommissionRule:
    return pb.CommissionRule(
        id=rule.id, owner_id=rule.owner_id, team_id=rule.team_id, category=rule.category,
        currency_code=rule.currency, start_date=_day(rule.start_date),
        end_date=_day(rule.end_date), rate=_text(rule.rate),
        tiers=[pb.CommissionTier(from_amount=_text(t.start), to_amount=_text(t.end),
                                 rate=_text(t.rate)) for t in rule.tiers],
        description=rule.describe())


def plan_out(plan: CommissionPlan) -> pb.CommissionPlan:
    return pb.CommissionPlan(
        id=plan.id, name=plan.name, description=plan.description,
        basis=BASIS_NUMBERS[plan.basis],  # type: ignore[arg-type]
        start_date=_day(plan.start_date), end_date=_day(plan.end_date),
        rules=[rule_out(r) for r in plan.rules], owner_id=plan.owner_id,
        team_id=plan.team_id, audit=audit_out(plan.audit), etag=plan.etag)


def _rep_out(rep: RepCommission) -> pb.RepCommission:
    c = rep.currency
    return pb.RepCommission(
        owner_id=rep.owner_id, currency_code=c, base=minor_money_out(rep.base, c),
        commission=minor_money_out(rep.commission, c),
        rules=[pb.RuleCommission(rule_id=r.rule_id, description=r.description,
                                 base=minor_money_out(r.base, c),
                                 commission=minor_money_out(r.commission, c))
               for r in rep.rules],
        lines=[pb.CommissionLine(
            kind=line.kind.value, document_id=line.document_id, number=line.number,
            invoice_id=line.invoice_id, invoice_number=line.invoice_number,
            day=line.day.isoformat(), rule_id=line.rule_id,
            base=minor_money_out(line.base, c), commission=minor_money_out(line.commission, c),
            team_id=line.team_id)
            for line in rep.lines],
        unmatched_base=minor_money_out(rep.unmatched_base, c))


def report_out(report: CommissionReport) -> pb.GetCommissionReportResponse:
    return pb.GetCommissionReportResponse(
        plan_id=report.plan_id, plan_name=report.plan_name,
        basis=BASIS_NUMBERS[report.basis],  # type: ignore[arg-type]
        start_date=report.start.isoformat(), end_date=report.end.isoformat(),
        reps=[_rep_out(rep) for rep in report.reps],
        totals=[minor_money_out(m.amount, m.currency) for m in report.totals])
