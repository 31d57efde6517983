"""Commission plans and reports against a real SecantusDB, with invoices, credit notes and
payments made through the App's use cases at back-dated moments; each report's figures are
checked against sums worked out here from the stored documents."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from sales_grpc.bootstrap import App, build
from sales_grpc.config import Settings
from sales_grpc.domain.access import PERMISSIONS, Principal, Role
from sales_grpc.domain.authorization import GRANTABLE
from sales_grpc.domain.commission_facts import DocumentKind
from sales_grpc.domain.commission_input import PlanInput, RuleInput, TierInput
from sales_grpc.domain.commission_report import CommissionReport
from sales_grpc.domain.customers import CustomerType
from sales_grpc.domain.errors import Aborted
from sales_grpc.domain.invoices import Invoice, PaymentMethod
from sales_grpc.domain.money import Money
from sales_grpc.domain.tallies import Selection
from sales_grpc.services.clock import moved_to
from sales_grpc.services.commissions import CommissionService
from sales_grpc.services.document_lines import LineInput
from sales_grpc.services.invoices import InvoiceInput
from sales_grpc.services.receivables import PaymentInput
from sales_grpc.store.commission_facts import CommissionFactsReader
from sales_grpc.store.commission_plans import CommissionPlanRepository
from sales_grpc.store.paging import PageTokens

D = Decimal
TEAM = "team-c"
MANAGER = Principal("mgr-c", Role.SALES_MANAGER, frozenset(GRANTABLE), TEAM)
REP1 = Principal("rep-c1", Role.SALES_REP, frozenset(PERMISSIONS), TEAM)
ADMIN = Principal("admin-c", Role.ADMIN, frozenset(GRANTABLE))


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00:00+00:00")


@dataclass
class World:
    app: App
    service: CommissionService
    a: Invoice  # rep-c1: tools and paint, shipping; partly paid, credited by amount
    b: Invoice  # rep-c2: paint; paid in full, credited by lines after
    customer_id: str
    paint_id: str


@pytest.fixture(scope="module")
async def world(fresh_settings: Callable[..., Settings]) -> AsyncIterator[World]:
    settings = fresh_settings()
    app = await build(settings)
    service = CommissionService(CommissionPlanRepository(app.mongo, PageTokens(
        settings.secret_key)), CommissionFactsReader(app.mongo))
    customer = await app.customers.create(MANAGER, {
        "first_name": "Cora", "last_name": "Commission", "email": "cora@example.com",
        "customer_type": CustomerType.INDIVIDUAL, "owner_id": "rep-c1", "team_id": TEAM})
    tools = await app.products.create(MANAGER, {
        "sku": "COMM-TOOL", "name": "Drill", "category": "tools", "tax_rate": D("0.08"),
        "unit_price": Money.parse("USD", "19.99")})
    paint = await app.products.create(MANAGER, {
        "sku": "COMM-PAINT", "name": "Paint", "category": "paint", "tax_rate": D("0.2"),
        "unit_price": Money.parse("USD", "7.35")})

    async def issued(day: str, owner: str, *lines: LineInput, shipping: str = "0") -> Invoice:
        with moved_to(at(day)):
            draft = await app.invoices.create(MANAGER, InvoiceInput(
                customer_id=customer.id, lines=list(lines), owner_id=owner, team_id=TEAM,
                shipping=Money.parse("USD", shipping)))
            return await app.invoice_lifecycle.finalize(MANAGER, draft.id, "")

    async def pay(day: str, invoice: Invoice, amount: str) -> None:
        with moved_to(at(day)):
            await app.receivables.record_payment(MANAGER, invoice.id, PaymentInput(
                Money.parse("USD", amount), PaymentMethod.BANK_TRANSFER, payment_date=day))

    a = await issued("2026-09-10", "rep-c1", LineInput(tools.id, 3, discount_rate="0.10"),
                     LineInput(paint.id, 2), shipping="5.00")
    b = await issued("2026-09-20", "rep-c2", LineInput(paint.id, 7))
    await pay("2026-09-25", a, "50.00")
    await pay("2026-10-10", b, str(b.totals.grand_total))
    with moved_to(at("2026-10-05")):
        await app.receivables.create_credit_note(MANAGER, a.id, [],
                                                 Money.parse("USD", "20.00"), "goodwill")
    with moved_to(at("2026-10-12")):
        await app.receivables.create_credit_note(MANAGER, b.id, [Selection(1, 2)], None,
                                                 "two tins returned")
    yield World(app, service, a, b, customer.id, paint.id)
    await app.close()


def net(invoice: Invoice, line: int) -> Decimal:
    amounts = invoice.lines[line].amounts
    return amounts.gross - amounts.discount


def by_rep(report: CommissionReport) -> dict[str, tuple[Decimal, Decimal]]:
    for rep in report.reps:
        assert rep.commission == sum((x.commission for x in rep.lines), D(0))
    return {rep.owner_id: (rep.base, rep.commission) for rep in report.reps}


async def billings_plan(service: CommissionService) -> str:
    plan = await service.create(MANAGER, PlanInput(
        "Autumn", "", "BILLINGS", "2026-09-01", "2026-12-31", (
            RuleInput("team", team_id=TEAM, rate="0.05"),
            RuleInput("tools", owner_id="rep-c1", category="tools", currency="USD", tiers=(
                TierInput("0", "50", "0.05"), TierInput("50", "", "0.10"))))))
    return plan.id


async def test_a_billings_report_matches_sums_of_the_invoices_and_their_clawbacks(world):
    a, b = world.a, world.b
    plan_id = await billings_plan(world.service)
    september = await world.service.report(MANAGER, plan_id, "2026-09-01", "2026-09-30")
    tools = net(a, 0)  # 3 x 19.99 less 10%
    assert tools == D("53.97")
    paint_a, paint_b = net(a, 1), net(b, 0)
    assert by_rep(september) == {
        "rep-c1": (tools + paint_a, cents(D("2.50") + (tools - 50) * D("0.10"))
                   + cents(paint_a * D("0.05"))),
        "rep-c2": (paint_b, cents(paint_b * D("0.05")))}

    october = await world.service.report(MANAGER, plan_id, "2026-10-01", "2026-10-31")
    notes = {n.invoice_id: n for n in (await world.app.receivables.list_credit_notes(
        MANAGER, ""))[0]}
    credit_a, credit_b = notes[a.id], notes[b.id]
    whole = tools + paint_a + a.shipping  # the by-amount credit spreads over these
    credit_net = credit_a.totals.subtotal
    claw_tools, claw_paint = (-cents(credit_net * tools / whole),
                              -cents(credit_net * paint_a / whole))
    claw_b = -(credit_b.totals.subtotal - credit_b.totals.discount_total)
    assert by_rep(october) == {
        "rep-c1": (claw_tools + claw_paint,
                   cents(claw_tools * D("0.05")) + cents(claw_paint * D("0.05"))),
        "rep-c2": (claw_b, cents(claw_b * D("0.05")))}
    (rep_c1,) = [r for r in october.reps if r.owner_id == "rep-c1"]
    assert {(x.kind, x.number, x.rule_id) for x in rep_c1.lines} == {
        (DocumentKind.CREDIT_NOTE, credit_a.number, "team"),
        (DocumentKind.CREDIT_NOTE, credit_a.number, "tools")}


async def test_a_collections_report_earns_the_paid_share_net_of_tax(world):
    a, b = world.a, world.b
    plan = await world.service.create(MANAGER, PlanInput(
        "Paid", "", "COLLECTIONS", "2026-01-01", "", (RuleInput(team_id=TEAM, rate="0.1"),)))
    autumn = await world.service.report(MANAGER, plan.id, "2026-09-01", "2026-10-31")
    paid_a = cents(D("50.00") * net(a, 0) / a.totals.grand_total) + cents(
        D("50.00") * net(a, 1) / a.totals.grand_total)
    # B paid in full earns its net; its credit note (after) went all to the balance.
    notes = {n.invoice_id: n for n in (await world.app.receivables.list_credit_notes(
        MANAGER, ""))[0]}
    assert notes[b.id].amount_to_balance == notes[b.id].totals.grand_total
    back_b = cents(notes[b.id].totals.grand_total * net(b, 0) / b.totals.grand_total)
    assert notes[a.id].amount_to_balance == 0  # A's credit only reduced what was due
    assert by_rep(autumn) == {
        "rep-c1": (paid_a, cents(paid_a * D("0.1"))),
        "rep-c2": (net(b, 0) - back_b, cents((net(b, 0) - back_b) * D("0.1")))}


async def test_a_rep_reads_only_their_own_commission(world):
    plan_id = await billings_plan(world.service)
    mine = await world.service.report(REP1, plan_id, "2026-09-01", "2026-10-31")
    assert [r.owner_id for r in mine.reps] == ["rep-c1"]
    everyone = await world.service.report(ADMIN, plan_id, "2026-09-01", "2026-10-31")
    assert [r.owner_id for r in everyone.reps] == ["rep-c1", "rep-c2"]
    assert mine.reps[0] == everyone.reps[0]


async def test_plans_are_stored_listed_updated_by_etag_and_deleted(world):
    service = world.service
    other = Principal("mgr-x", Role.SALES_MANAGER, frozenset(GRANTABLE), "team-x")
    mine = await service.create(other, PlanInput("X1", "", "BILLINGS", "2026-01-01", "", (
        RuleInput(owner_id="rep-x", currency="EUR", tiers=(
            TierInput("0", "1000.50", "0.015"), TierInput("1000.50", "", "0.02"))),)))
    second = await service.create(other, PlanInput("X2", "", "COLLECTIONS", "2026-01-01",
                                                   "2026-03-31", (
        RuleInput(team_id="team-x", rate="0.03"),)))
    assert await service.get(other, mine.id) == mine  # Decimals and days round-trip
    first_page, token = await service.list_page(other, size=1)
    assert first_page == [mine] and token  # read from raw BSON alike
    assert [p.id for p in (await service.list_page(other, size=1, token=token))[0]] == [
        second.id]
    renamed = await service.update(other, mine.id, ["name"], PlanInput("X1b"), mine.etag)
    assert (await service.get(other, mine.id)).name == "X1b" and renamed.etag == "v2"
    with pytest.raises(Aborted):
        await service.update(other, mine.id, ["name"], PlanInput("late"), "v1")
    with pytest.raises(Aborted):
        await service.delete(other, mine.id, "v1")
    await service.delete(other, mine.id, "v2")
    assert [p.id for p in (await service.list_page(other))[0]] == [second.id]
    assert date(2026, 3, 31) == (await service.get(other, second.id)).end_date


async def test_collections_count_a_spent_credit_balance_and_skip_earlier_payments(world):
    """B's credit note put its amount on the customer's balance (clawed back in October);
    spending that balance on an invoice in November is collected again."""
    with moved_to(at("2026-11-02")):
        draft = await world.app.invoices.create(MANAGER, InvoiceInput(
            customer_id=world.customer_id, lines=[LineInput(world.paint_id, 1)],
            owner_id="rep-c1", team_id=TEAM))
        c = await world.app.invoice_lifecycle.finalize(MANAGER, draft.id, "")
        await world.app.receivables.record_payment(MANAGER, c.id, PaymentInput(
            Money("USD", c.totals.grand_total), PaymentMethod.CREDIT_BALANCE,
            payment_date="2026-11-02"))
    plan = await world.service.create(MANAGER, PlanInput(
        "Paid", "", "COLLECTIONS", "2026-01-01", "", (RuleInput(team_id=TEAM, rate="0.1"),)))
    october = await world.service.report(MANAGER, plan.id, "2026-10-01", "2026-10-31")
    assert {r.owner_id for r in october.reps} == {"rep-c2"}  # A's payment was in September
    november = await world.service.report(MANAGER, plan.id, "2026-11-01", "2026-11-30")
    assert by_rep(november) == {"rep-c1": (net(c, 0), cents(net(c, 0) * D("0.1")))}
