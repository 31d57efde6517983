"""Commission plans and the commission report, pure: marginal tiers at their thresholds,
which rule applies, plan validation with field paths, clawbacks, collections that earn only
the paid share, reports whose total is the sum of their lines, and currencies kept apart;
then the use cases over in-memory ports (roles, etags, scope)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from sales_grpc.domain.access import PERMISSIONS, Principal, Role, Scope
from sales_grpc.domain.commission_facts import (
    BilledInvoice,
    DocumentKind,
    Facts,
    Receipt,
    base_lines,
)
from sales_grpc.domain.commission_input import PlanInput, RuleInput, TierInput, parse_plan
from sales_grpc.domain.commission_report import CommissionReport, report
from sales_grpc.domain.commissions import CommissionBasis, CommissionPlan, CommissionRule, Sale
from sales_grpc.domain.errors import Aborted, InvalidArgument, NotFound, PermissionDenied
from sales_grpc.domain.money import round_to_minor
from sales_grpc.domain.records import Audit
from sales_grpc.services.commissions import CommissionService

D = Decimal
JAN1 = date(2026, 1, 1)
TIERS = (TierInput("0", "1000", "0.05"), TierInput("1000", "5000", "0.08"),
         TierInput("5000", "", "0.10"))
ALL = Scope()


def plan_of(*rules: RuleInput, basis: str = "BILLINGS", start: str = "2026-01-01"
            ) -> CommissionPlan:
    terms = parse_plan(PlanInput("Q1", "", basis, start, "", rules))
    return CommissionPlan(id="p" * 24, name=terms.name, owner_id="mgr", team_id="team-a",
                          basis=terms.basis, start_date=terms.start_date,
                          end_date=terms.end_date, rules=terms.rules,
                          audit=Audit.new("mgr", datetime.now(UTC)))


def invoice(n: int, *nets: str, owner: str = "rep-1", team: str = "team-a",
            categories: tuple[str, ...] = (), day: date = date(2026, 2, 1),
            currency: str = "USD", shipping: str = "0", tax: str = "0") -> BilledInvoice:
    amounts = tuple(D(x) for x in nets)
    return BilledInvoice(f"inv{n:021d}", f"INV-{n:04d}", currency, owner, team, day,
                         categories or ("",) * len(nets), amounts, D(shipping),
                         sum(amounts, D(0)) + D(shipping) + D(tax))


def receipt(kind: DocumentKind, n: int, of: BilledInvoice, day: date, amount: str,
            net: str = "0", to_balance: str = "0",
            lines: tuple[tuple[int, str], ...] = ()) -> Receipt:
    return Receipt(kind, f"rec{n:021d}", f"CN-{n:04d}" if kind is DocumentKind.CREDIT_NOTE
                   else "", of.id, of.owner_id, of.team_id, day,
                   datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=n),
                   D(amount), D(net), D(to_balance), tuple((i, D(x)) for i, x in lines))


def facts_of(*invoices: BilledInvoice, receipts: tuple[Receipt, ...] = ()) -> Facts:
    facts = Facts({i.id: i for i in invoices}, {i.id: [] for i in invoices})
    for r in receipts:
        facts.receipts[r.invoice_id].append(r)
    return facts


def run(plan: CommissionPlan, facts: Facts, first: date = JAN1, last: date = date(2026, 12, 31),
        scope: Scope = ALL) -> CommissionReport:
    return report(plan, first, last, base_lines(plan.basis, facts, first, last, scope))


def assert_adds_up(r: CommissionReport) -> None:
    for rep in r.reps:
        assert rep.commission == sum((x.commission for x in rep.lines), D(0))
        assert rep.commission == sum((x.commission for x in rep.rules), D(0))
        assert rep.base == sum((x.base for x in rep.lines), D(0))


# -- tiers ------------------------------------------------------------------------------

def test_marginal_tiers_charge_each_rate_only_on_the_part_within_its_tier():
    rule = plan_of(RuleInput(team_id="team-a", currency="USD", tiers=TIERS)).rules[0]
    expected = {"0": "0", "999.99": "49.9995", "1000": "50", "1000.01": "50.0008",
                "5000": "370", "5000.01": "370.001", "6000": "470", "-100": "-5"}
    for base, commission in expected.items():
        assert rule.commission(D(base)) == D(commission), base


def test_an_invoice_crossing_a_threshold_earns_the_higher_rate_only_above_it():
    plan = plan_of(RuleInput(team_id="team-a", currency="USD", tiers=TIERS))
    r = run(plan, facts_of(invoice(1, "600.00"), invoice(2, "600.00", day=date(2026, 2, 2))))
    (rep,) = r.reps
    assert [(x.number, x.base, x.commission) for x in rep.lines] == [
        ("INV-0001", D("600.00"), D("30.00")), ("INV-0002", D("600.00"), D("36.00"))]
    assert (rep.base, rep.commission) == (D("1200.00"), D("66.00"))
    assert rep.rules[0].description == "team team-a: tiers 5% from 0, 8% from 1000, " \
        "10% from 5000 USD"


def test_commission_rounds_half_up_to_the_minor_unit_once_per_rule():
    plan = plan_of(RuleInput(owner_id="rep-1", rate="0.05"))
    r = run(plan, facts_of(invoice(1, "0.10"), invoice(2, "0.10", day=date(2026, 2, 2))))
    (rep,) = r.reps
    assert [x.commission for x in rep.lines] == [D("0.01"), D("0.00")]  # 0.005, then 0.01
    assert rep.commission == D("0.01")
    odd = plan_of(RuleInput(owner_id="rep-1", category="tools", rate="0.033333")).rules[0]
    assert odd.describe() == "rep rep-1, category tools: 3.3333% flat"


# -- which rule applies -----------------------------------------------------------------

def test_the_most_specific_rule_applies_rep_over_team_and_category_over_any():
    plan = plan_of(RuleInput("team", team_id="team-a", rate="0.01"),
                   RuleInput("rep", owner_id="rep-1", rate="0.02"),
                   RuleInput("team-tools", team_id="team-a", category="tools", rate="0.03"),
                   RuleInput("rep-tools", owner_id="rep-1", category="tools", rate="0.04"))
    day = date(2026, 3, 1)
    chosen = {(owner, category): plan.rule_for(Sale(owner, "team-a", category, "USD", day))
              for owner in ("rep-1", "rep-2") for category in ("tools", "paint")}
    assert {k: r.id if r else None for k, r in chosen.items()} == {
        ("rep-1", "tools"): "rep-tools", ("rep-1", "paint"): "rep",
        ("rep-2", "tools"): "team-tools", ("rep-2", "paint"): "team"}
    assert plan.rule_for(Sale("rep-9", "team-b", "tools", "USD", day)) is None


def test_among_equally_specific_rules_the_latest_start_wins_then_the_first_listed():
    plan = plan_of(RuleInput("jan", owner_id="rep-1", rate="0.05"),
                   RuleInput("mar", owner_id="rep-1", start_date="2026-03-01", rate="0.06"),
                   RuleInput("mar-too", owner_id="rep-1", start_date="2026-03-01",
                             rate="0.07"),
                   RuleInput("ended", owner_id="rep-1", category="tools",
                             end_date="2026-01-31", rate="0.5"))
    at = [plan.rule_for(Sale("rep-1", "team-a", "tools", "USD", day))
          for day in (date(2026, 1, 15), date(2026, 2, 1), date(2026, 4, 1))]
    assert [r.id if r else None for r in at] == ["ended", "jan", "mar"]


def test_a_tiered_rule_applies_only_to_its_currency_and_a_flat_one_to_any():
    plan = plan_of(RuleInput("usd-tiers", owner_id="rep-1", currency="USD", tiers=TIERS),
                   RuleInput("flat", team_id="team-a", rate="0.02"))
    r = run(plan, facts_of(invoice(1, "2000.00"), invoice(2, "300000", currency="JPY"),
                           invoice(3, "150.00", currency="EUR")))
    got = {(rep.owner_id, rep.currency): (rep.rules[0].rule_id, rep.commission)
           for rep in r.reps}
    assert got == {("rep-1", "EUR"): ("flat", D("3.00")),
                   ("rep-1", "JPY"): ("flat", D("6000")),
                   ("rep-1", "USD"): ("usd-tiers", D("130.00"))}
    assert [(m.currency, m.amount) for m in r.totals] == [
        ("EUR", D("3.00")), ("JPY", D("6000")), ("USD", D("130.00"))]


# -- validation -------------------------------------------------------------------------

def _violations(data: PlanInput) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as refused:
        parse_plan(data)
    return {v.field: v.description for v in refused.value.violations}


def test_a_plan_with_bad_rules_is_refused_naming_every_bad_field():
    fields = _violations(PlanInput("", "", "REVENUE", "2026-03-01", "2026-02-01", (
        RuleInput(owner_id="rep-1", team_id="team-a", rate="0.05"),
        RuleInput(team_id="team-a", currency="USD", tiers=(
            TierInput("0", "1000", "1.5"), TierInput("1200", "", "0.1"))),
        RuleInput(owner_id="rep-2", currency="USD", tiers=(
            TierInput("10", "100", "0.1"), TierInput("100", "50", "0.2"))),
        RuleInput(owner_id="rep-3", currency="USD", tiers=(
            TierInput("0", "", "0.1"), TierInput("", "", "0.2"))),
        RuleInput(owner_id="rep-4", rate="-0.01", start_date="2026-02-30"),
        RuleInput(owner_id="rep-5", tiers=(TierInput("0", "", "0.1"),)),
        RuleInput(owner_id="rep-6", rate="0.1", tiers=(TierInput("0", "", "0.1"),)),
    )))
    assert set(fields) == {
        "commission_plan.name", "commission_plan.basis", "commission_plan.end_date",
        "commission_plan.rules[0].owner_id",
        "commission_plan.rules[1].tiers[0].rate", "commission_plan.rules[1].tiers[1].from_amount",
        "commission_plan.rules[2].tiers[0].from_amount",
        "commission_plan.rules[2].tiers[1].to_amount",
        "commission_plan.rules[3].tiers[0].to_amount",
        "commission_plan.rules[4].rate", "commission_plan.rules[4].start_date",
        "commission_plan.rules[5].currency", "commission_plan.rules[6].rate"}
    assert "BILLINGS or COLLECTIONS" in fields["commission_plan.basis"]
    assert "from 0 to 1" in fields["commission_plan.rules[1].tiers[0].rate"]
    assert "1000" in fields["commission_plan.rules[1].tiers[1].from_amount"]
    assert "start at 0" in fields["commission_plan.rules[2].tiers[0].from_amount"]
    assert "last tier" in fields["commission_plan.rules[3].tiers[0].to_amount"]


def test_a_plan_needs_a_start_date_rules_and_distinct_rule_ids():
    fields = _violations(PlanInput("Plan", "", "BILLINGS", "", "", ()))
    assert set(fields) == {"commission_plan.start_date", "commission_plan.rules"}
    fields = _violations(PlanInput("Plan", "", "COLLECTIONS", "2026-01-01", "", (
        RuleInput("a", owner_id="rep-1", rate="0.1"), RuleInput("a", owner_id="rep-2",
                                                               rate="0.1"))))
    assert set(fields) == {"commission_plan.rules[1].id"}


def test_tier_amounts_must_fit_the_currency_and_rates_have_at_most_six_places():
    fields = _violations(PlanInput("Plan", "", "BILLINGS", "2026-01-01", "", (
        RuleInput(owner_id="rep-1", currency="JPY", tiers=(
            TierInput("0", "1000.5", "0.1"), TierInput("1000.5", "", "0.0000001"))),)))
    assert set(fields) == {"commission_plan.rules[0].tiers[0].to_amount",
                           "commission_plan.rules[0].tiers[1].from_amount",
                           "commission_plan.rules[0].tiers[1].rate"}


# -- clawbacks --------------------------------------------------------------------------

def test_a_credit_by_amount_claws_back_across_the_lines_in_proportion_on_its_issue_day():
    sold = invoice(1, "100.00", "50.00", categories=("tools", "paint"), shipping="10.00",
                   tax="16.00")
    credit = receipt(DocumentKind.CREDIT_NOTE, 1, sold, date(2026, 3, 5), "88.00", net="80.00")
    plan = plan_of(RuleInput("tools", owner_id="rep-1", category="tools", rate="0.10"),
                   RuleInput("any", owner_id="rep-1", rate="0.02"))
    facts = facts_of(sold, receipts=(credit,))
    bases = base_lines(plan.basis, facts, JAN1, date(2026, 12, 31), ALL)
    # 80 of the invoice's 160 net (150 of lines, 10 of shipping): half of each line.
    assert [(x.kind, x.day, x.category, x.base) for x in bases] == [
        (DocumentKind.INVOICE, date(2026, 2, 1), "paint", D("50.00")),
        (DocumentKind.INVOICE, date(2026, 2, 1), "tools", D("100.00")),
        (DocumentKind.CREDIT_NOTE, date(2026, 3, 5), "paint", D("-25.00")),
        (DocumentKind.CREDIT_NOTE, date(2026, 3, 5), "tools", D("-50.00"))]
    march = run(plan, facts, date(2026, 3, 1), date(2026, 3, 31))
    (rep,) = march.reps  # the clawback alone, in the month of the credit note
    assert {(x.rule_id, x.number, x.commission) for x in rep.lines} == {
        ("tools", "CN-0001", D("-5.00")), ("any", "CN-0001", D("-0.50"))}
    assert rep.commission == D("-5.50")


def test_credits_by_amount_in_awkward_steps_claw_back_exactly_the_invoice():
    sold = invoice(1, "33.33", "66.67", categories=("a", "b"), tax="7.00")
    steps = [receipt(DocumentKind.CREDIT_NOTE, n, sold, date(2026, 3, n), "0", net=net)
             for n, net in ((1, "33.33"), (2, "33.33"), (3, "33.34"))]
    bases = base_lines(CommissionBasis.BILLINGS, facts_of(sold, receipts=tuple(steps)), JAN1,
                       date(2026, 12, 31), ALL)
    for category in ("a", "b"):
        assert sum((x.base for x in bases if x.category == category), D(0)) == 0


def test_a_credit_by_lines_claws_back_the_credited_lines_category():
    sold = invoice(1, "100.00", "50.00", categories=("tools", "paint"))
    credit = receipt(DocumentKind.CREDIT_NOTE, 1, sold, date(2026, 3, 5), "22.00",
                     net="20.00", lines=((1, "20.00"),))
    plan = plan_of(RuleInput(owner_id="rep-1", category="paint", rate="0.10"))
    (rep,) = run(plan, facts_of(sold, receipts=(credit,))).reps
    assert [(x.number, x.base, x.commission) for x in rep.lines] == [
        ("INV-0001", D("50.00"), D("5.00")), ("CN-0001", D("-20.00"), D("-2.00"))]
    assert rep.unmatched_base == D("100.00")  # tools: no rule


def test_a_void_invoice_earns_nothing():
    plan = plan_of(RuleInput(owner_id="rep-1", rate="0.10"))
    assert run(plan, facts_of(replace(invoice(1, "100.00"), void=True))).reps == ()


# -- collections ------------------------------------------------------------------------

def test_collections_earn_only_the_paid_share_net_of_tax_when_it_is_paid():
    sold = invoice(1, "100.00", tax="10.00")  # 110.00 due
    paid = [receipt(DocumentKind.PAYMENT, 1, sold, date(2026, 2, 10), "55.00"),
            receipt(DocumentKind.PAYMENT, 2, sold, date(2026, 3, 10), "33.00")]
    plan = plan_of(RuleInput(owner_id="rep-1", rate="0.10"), basis="COLLECTIONS")
    facts = facts_of(sold, receipts=tuple(paid))
    (feb,) = run(plan, facts, date(2026, 2, 1), date(2026, 2, 28)).reps
    (mar,) = run(plan, facts, date(2026, 3, 1), date(2026, 3, 31)).reps
    assert [(x.kind, x.base, x.commission) for x in feb.lines] == [
        (DocumentKind.PAYMENT, D("50.00"), D("5.00"))]
    assert [(x.base, x.commission) for x in mar.lines] == [(D("30.00"), D("3.00"))]
    assert run(plan, facts_of(sold)).reps == ()  # billed, unpaid: nothing


def test_collections_in_thirds_add_up_to_each_lines_net_exactly():
    sold = invoice(1, "7.00", "2.00", categories=("a", "b"), tax="0.90")  # 9.90
    thirds = tuple(receipt(DocumentKind.PAYMENT, n, sold, date(2026, 2, n), "3.30")
                   for n in (1, 2, 3))
    bases = base_lines(CommissionBasis.COLLECTIONS, facts_of(sold, receipts=thirds), JAN1,
                       date(2026, 12, 31), ALL)
    assert [x.base for x in bases if x.category == "a"] == [D("2.33"), D("2.34"), D("2.33")]
    assert sum((x.base for x in bases if x.category == "b"), D(0)) == D("2.00")


def test_on_collections_only_credit_that_went_to_the_balance_claws_back():
    sold = invoice(1, "100.00", tax="10.00")
    receipts = (receipt(DocumentKind.PAYMENT, 1, sold, date(2026, 2, 1), "80.00"),
                # 30.00 still due is reduced, 25.00 goes back to the customer's balance
                receipt(DocumentKind.CREDIT_NOTE, 2, sold, date(2026, 2, 5), "55.00",
                        net="50.00", to_balance="25.00"),
                receipt(DocumentKind.CREDIT_NOTE, 3, sold, date(2026, 2, 6), "0.00",
                        to_balance="0"))
    bases = base_lines(CommissionBasis.COLLECTIONS, facts_of(sold, receipts=receipts), JAN1,
                       date(2026, 12, 31), ALL)
    assert [(x.number, x.base) for x in bases] == [("", D("72.73")), ("CN-0002", D("-22.73"))]
    assert sum((x.base for x in bases), D(0)) == D("50.00")  # 55.00 kept, net of its tax


# -- totals -----------------------------------------------------------------------------

def test_a_reports_total_is_the_sum_of_its_lines_whatever_the_amounts():
    rng = random.Random(11)
    plan = plan_of(RuleInput("odd", owner_id="rep-1", rate="0.033333"),
                   RuleInput("tiers", team_id="team-a", currency="USD", tiers=(
                       TierInput("0", "99.99", "0.015"), TierInput("99.99", "500.01", "0.0725"),
                       TierInput("500.01", "", "0.119999"))))
    invoices, receipts = [], []
    for n in range(60):
        nets = tuple(f"{rng.randint(1, 9999) / 100:.2f}" for _ in range(rng.randint(1, 3)))
        sold = invoice(n, *nets, owner=rng.choice(("rep-1", "rep-2")),
                       day=date(2026, 1, 1) + timedelta(days=rng.randrange(300)),
                       tax=f"{rng.randint(0, 999) / 100:.2f}")
        invoices.append(sold)
        if rng.random() < 0.4:
            receipts.append(receipt(DocumentKind.CREDIT_NOTE, n, sold, sold.issue_date
                                    + timedelta(days=3), "0", net=f"{sold.nets[0] / 3:.2f}"))
    r = run(plan, facts_of(*invoices, receipts=tuple(receipts)))
    assert {rep.owner_id for rep in r.reps} == {"rep-1", "rep-2"}
    assert_adds_up(r)
    for rep in r.reps:
        rule = next(x for x in plan.rules if x.id == rep.rules[0].rule_id)
        assert rep.commission == round_to_minor(rule.commission(rep.base), "USD")
        assert any(x.commission < 0 for x in rep.lines)


def test_a_report_is_limited_to_the_callers_scope():
    plan = plan_of(RuleInput(team_id="team-a", rate="0.10"), RuleInput(team_id="team-b",
                                                                       rate="0.10"))
    facts = facts_of(invoice(1, "10.00"), invoice(2, "20.00", owner="rep-2"),
                     invoice(3, "40.00", owner="rep-3", team="team-b"))
    owners = {scope: [rep.owner_id for rep in run(plan, facts, scope=scope).reps]
              for scope in (Scope("rep-1", "team-a"), Scope(team_id="team-a"), ALL)}
    assert list(owners.values()) == [["rep-1"], ["rep-1", "rep-2"], ["rep-1", "rep-2", "rep-3"]]


# -- use cases --------------------------------------------------------------------------

REP = Principal("rep-1", Role.SALES_REP, frozenset(PERMISSIONS), "team-a")
MANAGER = Principal("mgr-a", Role.SALES_MANAGER, frozenset(PERMISSIONS), "team-a")
OTHER_MANAGER = Principal("mgr-b", Role.SALES_MANAGER, frozenset(PERMISSIONS), "team-b")
ADMIN = Principal("admin", Role.ADMIN, frozenset(PERMISSIONS))
FLAT = PlanInput("Flat", "", "BILLINGS", "2026-01-01", "",
                 (RuleInput(team_id="team-a", rate="0.10"),))


class Plans:
    def __init__(self) -> None:
        self.items: dict[str, CommissionPlan] = {}

    async def get(self, plan_id: str) -> CommissionPlan | None:
        return self.items.get(plan_id)

    async def add(self, plan: CommissionPlan) -> None:
        self.items[plan.id] = plan

    async def save(self, plan: CommissionPlan, expected_version: int) -> bool:
        if self.items[plan.id].version != expected_version:
            return False
        self.items[plan.id] = plan
        return True

    async def delete(self, plan_id: str, expected_version: int) -> bool:
        return self.items.pop(plan_id, None) is not None

    async def list_page(self, team_ids: list[str] | None, size: int, token: str
                        ) -> tuple[list[CommissionPlan], str]:
        return [p for p in self.items.values()
                if team_ids is None or p.team_id in team_ids][:size], ""


class Documents:
    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.asked: list[tuple[date, date, Scope]] = []

    async def read(self, basis: CommissionBasis, first: date, last: date, scope: Scope
                   ) -> Facts:
        self.asked.append((first, last, scope))
        return self.facts


@pytest.fixture
def service() -> CommissionService:
    return CommissionService(Plans(), Documents(facts_of(
        invoice(1, "10.00"), invoice(2, "20.00", owner="rep-2"),
        invoice(3, "40.00", owner="rep-3", team="team-b"))))


async def test_only_managers_and_admins_manage_plans(service: CommissionService):
    for attempt in (service.create(REP, FLAT), service.list_page(REP)):
        with pytest.raises(PermissionDenied) as refused:
            await attempt
        assert refused.value.reason == "COMMISSION_PLAN_NOT_ALLOWED"
    plan = await service.create(MANAGER, FLAT)
    assert (plan.team_id, plan.owner_id, plan.etag) == ("team-a", "mgr-a", "v1")
    with pytest.raises(PermissionDenied):
        await service.create(MANAGER, FLAT, team_id="team-b")
    with pytest.raises(NotFound):
        await service.get(OTHER_MANAGER, plan.id)
    company = await service.create(ADMIN, FLAT)
    assert company.team_id == ""
    assert [p.id for p in (await service.list_page(OTHER_MANAGER))[0]] == [company.id]
    with pytest.raises(PermissionDenied):
        await service.delete(MANAGER, company.id, "")


async def test_an_update_changes_the_masked_fields_and_refuses_a_stale_etag(
        service: CommissionService):
    plan = await service.create(MANAGER, FLAT)
    changed = await service.update(MANAGER, plan.id, ["name", "rules"], PlanInput(
        "Renamed", "ignored", "COLLECTIONS", "", "", (RuleInput(owner_id="rep-1",
                                                                 rate="0.2"),)), "v1")
    assert (changed.name, changed.description, changed.basis, changed.etag) == (
        "Renamed", "", CommissionBasis.BILLINGS, "v2")
    assert changed.rules == (CommissionRule("rule-1", owner_id="rep-1", rate=D("0.2")),)
    with pytest.raises(Aborted):
        await service.update(MANAGER, plan.id, ["name"], PlanInput("Again"), "v1")
    with pytest.raises(InvalidArgument) as refused:
        await service.update(MANAGER, plan.id, ["rules"], PlanInput(), "v2")
    assert refused.value.violations[0].field == "commission_plan.rules"
    with pytest.raises(InvalidArgument):
        await service.update(MANAGER, plan.id, ["owner_id"], PlanInput(), "v2")
    await service.delete(MANAGER, plan.id, "v2")
    with pytest.raises(NotFound):
        await service.get(MANAGER, plan.id)


async def test_a_rep_sees_their_own_commission_a_manager_their_teams(
        service: CommissionService):
    plan = await service.create(ADMIN, PlanInput(
        "All", "", "BILLINGS", "2026-01-01", "2026-06-30",
        (RuleInput(team_id="team-a", rate="0.10"), RuleInput(team_id="team-b", rate="0.10"))))
    reps = {}
    for who in (REP, MANAGER, ADMIN):
        r = await service.report(who, plan.id, "2025-12-01", "2026-12-31")
        assert (r.start, r.end) == (JAN1, date(2026, 6, 30))  # within the plan's days
        reps[who.subject] = [(x.owner_id, x.commission) for x in r.reps]
    assert reps == {"rep-1": [("rep-1", D("1.00"))],
                    "mgr-a": [("rep-1", D("1.00")), ("rep-2", D("2.00"))],
                    "admin": [("rep-1", D("1.00")), ("rep-2", D("2.00")), ("rep-3", D("4.00"))]}
    with pytest.raises(InvalidArgument) as refused:
        await service.report(REP, plan.id, "2026-02-01", "2026-01-01")
    assert refused.value.violations[0].field == "end_date"
