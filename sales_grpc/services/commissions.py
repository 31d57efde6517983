"""Commission plans (who manages them is the MANAGE_COMMISSION_PLANS move of
domain/authorization.py's table: managers their team's, admins any) and the commission
report, which anyone may run on a plan they can see, for the commission in their own
row-level scope: a rep their own, a manager their team's, an admin everyone's."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Protocol

from ..domain import validation as check
from ..domain.access import Principal, Role, Scope, scope_of
from ..domain.authorization import RULES, Move, authorize
from ..domain.commission_facts import Facts, base_lines
from ..domain.commission_input import PREFIX, PlanInput, parse_plan, plan_input
from ..domain.commission_report import CommissionReport, report
from ..domain.commissions import CommissionBasis, CommissionPlan
from ..domain.errors import Aborted, InvalidArgument, NotFound, PermissionDenied, Violations
from ..domain.listing import page_size
from ..domain.records import Audit
from .clock import now
from .ids import new_id
from .ports import Page

EDITABLE = frozenset({"name", "description", "basis", "start_date", "end_date", "rules"})
MAX_REPORT_DAYS = 731
REFUSED = RULES[Move.MANAGE_COMMISSION_PLANS].reason  # also for another team's plan


class CommissionPlanRecords(Protocol):
    async def get(self, plan_id: str) -> CommissionPlan | None: ...

    async def add(self, plan: CommissionPlan) -> None: ...

    async def save(self, plan: CommissionPlan, expected_version: int) -> bool: ...

    async def delete(self, plan_id: str, expected_version: int) -> bool: ...

    async def list_page(self, team_ids: list[str] | None, size: int, token: str
                        ) -> Page[CommissionPlan]: ...


class CommissionFacts(Protocol):
    async def read(self, basis: CommissionBasis, first: date, last: date, scope: Scope
                   ) -> Facts: ...


class CommissionService:
    def __init__(self, plans: CommissionPlanRecords, facts: CommissionFacts) -> None:
        self._plans = plans
        self._facts = facts

    async def create(self, principal: Principal, data: PlanInput, team_id: str = ""
                     ) -> CommissionPlan:
        """A plan for the caller's team; an admin names any team, or none (company-wide)."""
        authorize(principal, Move.MANAGE_COMMISSION_PLANS)
        if principal.role is not Role.ADMIN:
            if team_id not in ("", principal.team_id) or not principal.team_id:
                raise PermissionDenied(
                    "a sales manager creates commission plans for their own team only",
                    reason=REFUSED, metadata={"team_id": team_id[:100]})
            team_id = principal.team_id
        v = Violations()
        check.text(v, f"{PREFIX}.team_id", team_id, required=False, max_len=100)
        v.raise_if_any()
        terms = parse_plan(data)
        moment = now()
        plan = CommissionPlan(
            id=new_id(), name=terms.name, description=terms.description,
            owner_id=principal.subject, team_id=team_id, basis=terms.basis,
            start_date=terms.start_date, end_date=terms.end_date, rules=terms.rules,
            audit=Audit.new(principal.subject, moment))
        await self._plans.add(plan)
        return plan

    async def get(self, principal: Principal, plan_id: str) -> CommissionPlan:
        authorize(principal, Move.MANAGE_COMMISSION_PLANS)
        return await self._visible(principal, plan_id)

    async def list_page(self, principal: Principal, size: int = 0, token: str = ""
                        ) -> Page[CommissionPlan]:
        """The plans the caller may see, oldest first."""
        authorize(principal, Move.MANAGE_COMMISSION_PLANS)
        teams = None if principal.role is Role.ADMIN else ["", principal.team_id]
        return await self._plans.list_page(teams, page_size(size), token)

    async def update(self, principal: Principal, plan_id: str, mask: list[str],
                     data: PlanInput, etag: str) -> CommissionPlan:
        """Changes the fields `mask` names (`rules` replaces them all) if `etag` is current."""
        authorize(principal, Move.MANAGE_COMMISSION_PLANS)
        fields = check.update_mask(mask, EDITABLE, kind="commission plan")
        current = await self._changeable(principal, plan_id)
        current.check_etag(etag)
        merged = replace(plan_input(current), **{f: getattr(data, f) for f in fields})
        terms = parse_plan(merged)
        moment = now()
        updated = replace(current, name=terms.name, description=terms.description,
                          basis=terms.basis, start_date=terms.start_date,
                          end_date=terms.end_date, rules=terms.rules,
                          audit=current.audit.touched(principal.subject, moment),
                          version=current.version + 1)
        if not await self._plans.save(updated, current.version):
            raise _stale(current)
        return updated

    async def delete(self, principal: Principal, plan_id: str, etag: str) -> None:
        authorize(principal, Move.MANAGE_COMMISSION_PLANS)
        current = await self._changeable(principal, plan_id)
        current.check_etag(etag)
        if not await self._plans.delete(current.id, current.version):
            raise _stale(current)

    async def report(self, principal: Principal, plan_id: str, start: str, end: str
                     ) -> CommissionReport:
        """The plan's commission for the days start..end (ISO dates, both included) within
        the plan's own days, in the caller's scope."""
        first, last = _range(start, end)
        plan = await self._visible(principal, plan_id)
        days = plan.covers(first, last)
        if days is None:
            return report(plan, first, last, [])
        scope = scope_of(principal)
        facts = await self._facts.read(plan.basis, days[0], days[1], scope)
        return report(plan, days[0], days[1],
                      base_lines(plan.basis, facts, days[0], days[1], scope))

    async def _visible(self, principal: Principal, plan_id: str) -> CommissionPlan:
        """Admins see every plan; others their team's and the company-wide ones."""
        check.object_id("id", plan_id)
        plan = await self._plans.get(plan_id)
        if plan is None or (principal.role is not Role.ADMIN
                            and plan.team_id not in ("", principal.team_id)):
            raise NotFound(f"commission plan {plan_id} not found",
                           reason="COMMISSION_PLAN_NOT_FOUND", metadata={"id": plan_id})
        return plan

    async def _changeable(self, principal: Principal, plan_id: str) -> CommissionPlan:
        plan = await self._visible(principal, plan_id)
        if principal.role is not Role.ADMIN and not plan.team_id:
            raise PermissionDenied("only an admin may change a company-wide commission plan",
                                   reason=REFUSED, metadata={"id": plan_id})
        return plan


def _stale(plan: CommissionPlan) -> Aborted:
    return Aborted(f"commission plan {plan.id} was changed concurrently; re-read and retry",
                   metadata={"id": plan.id})


def _range(start: str, end: str) -> tuple[date, date]:
    v = Violations()
    first = check.iso_date(v, "start_date", start, required=True)
    last = check.iso_date(v, "end_date", end, required=True)
    v.raise_if_any()
    assert first is not None and last is not None
    if last < first:
        raise InvalidArgument.of("end_date", "must not be before start_date")
    if (last - first).days >= MAX_REPORT_DAYS:
        raise InvalidArgument.of("end_date", f"a report covers at most {MAX_REPORT_DAYS} days")
    return first, last
