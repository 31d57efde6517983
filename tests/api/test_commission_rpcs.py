"""Commission plans and the commission report over the wire, through ReportService."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import grpc
import pytest
from google.protobuf import field_mask_pb2

from erp.sales.v1 import commission_pb2 as cpb
from erp.sales.v1 import invoice_service_pb2 as ipb
from erp.sales.v1 import product_service_pb2 as ppb
from erp.sales.v1 import report_service_pb2 as rpb
from erp.sales.v1 import report_service_pb2_grpc as rgrpc
from sales_grpc.domain.access import Role

from .helpers import decode, fails
from .invoice_fixtures import Billing
from .order_fixtures import line, usd
from .report_fixtures import export, request

D = Decimal
TODAY = datetime.now(UTC).date().isoformat()


@pytest.fixture
def team(running):
    """A manager of a team of its own, so other tests' invoices stay out of the report."""
    return running.token("manager-comm", Role.SALES_MANAGER, "team-comm")


def _plan(**fields) -> cpb.CommissionPlan:
    values = {"name": "Team commission", "basis": cpb.COMMISSION_BASIS_BILLINGS,
              "start_date": "2026-01-01",
              "rules": [cpb.CommissionRule(team_id="team-comm", rate="0.05")]}
    values.update(fields)
    return cpb.CommissionPlan(**values)


async def test_billings_commission_with_a_clawback_adds_up_to_its_lines(running, team):
    reports = rgrpc.ReportServiceStub(running.channel)
    billing = Billing(running.channel, team)
    plan = (await reports.CreateCommissionPlan(cpb.CreateCommissionPlanRequest(
        commission_plan=_plan()), metadata=team)).commission_plan
    assert plan.rules[0].description and plan.etag

    order = await billing.confirmed_order(("33.33", 3, "0.19"), shipping_charge=usd("5.00"))
    invoice = await billing.finalize((await billing.invoice_order(order.id)).id)
    net = D(invoice.totals.subtotal.amount) - D(invoice.totals.discount_total.amount)
    credit = await billing.invoices.CreateCreditNote(ipb.CreateCreditNoteRequest(
        invoice_id=invoice.id, amount=usd("11.90"), reason="Late delivery"), metadata=team)
    credited_net = (D(credit.credit_note.totals.subtotal.amount)
                    - D(credit.credit_note.totals.discount_total.amount))

    report = await reports.GetCommissionReport(cpb.GetCommissionReportRequest(
        plan_id=plan.id, start_date=TODAY, end_date=TODAY), metadata=team)
    [rep] = [r for r in report.reps if r.owner_id == "manager-comm"]
    lines = {line.kind: line for line in rep.lines}
    assert D(lines["invoice"].base.amount) == net  # shipping and tax earn nothing
    assert D(lines["credit_note"].base.amount) < 0  # the credit claws back
    base = D(rep.base.amount)
    assert base == net + D(lines["credit_note"].base.amount)
    # A credit by amount is spread over the lines and the shipping in proportion; only the
    # lines' share claws back commission.
    shipping = D(invoice.totals.shipping.amount)
    assert base == net - (credited_net * net / (net + shipping)).quantize(D("0.01"))
    assert D(rep.commission.amount) == (base * D("0.05")).quantize(D("0.01"))
    assert sum(D(line.commission.amount) for line in rep.lines) == D(rep.commission.amount)
    assert [(m.currency_code, m.amount) for m in report.totals] == [("USD", rep.commission.amount)]


async def test_plans_are_managed_by_managers_and_validated_by_field(running, team):
    reports = rgrpc.ReportServiceStub(running.channel)
    rep = running.token("rep-comm", Role.SALES_REP, "team-comm")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await reports.CreateCommissionPlan(cpb.CreateCommissionPlanRequest(
            commission_plan=_plan()), metadata=rep)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    bad = _plan(rules=[cpb.CommissionRule(team_id="team-comm", currency_code="USD", tiers=[
        cpb.CommissionTier(from_amount="0", to_amount="1000", rate="0.05"),
        cpb.CommissionTier(from_amount="2000", rate="1.5")])])
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await reports.CreateCommissionPlan(cpb.CreateCommissionPlanRequest(
            commission_plan=bad), metadata=team)
    failure = decode(invalid.value)
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert any(path.startswith("commission_plan.rules[0].tiers[1]") for path in failure.fields)

    plan = (await reports.CreateCommissionPlan(cpb.CreateCommissionPlanRequest(
        commission_plan=_plan(name="Before")), metadata=team)).commission_plan
    renamed = (await reports.UpdateCommissionPlan(cpb.UpdateCommissionPlanRequest(
        commission_plan=cpb.CommissionPlan(id=plan.id, name="After", etag=plan.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["name"])), metadata=team)).commission_plan
    assert renamed.name == "After" and renamed.rules == plan.rules
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await reports.DeleteCommissionPlan(cpb.DeleteCommissionPlanRequest(
            id=plan.id, etag=plan.etag), metadata=team)
    assert stale.value.code() == grpc.StatusCode.ABORTED
    listed = await reports.ListCommissionPlans(cpb.ListCommissionPlansRequest(), metadata=team)
    assert plan.id in {p.id for p in listed.commission_plans}
    await reports.DeleteCommissionPlan(cpb.DeleteCommissionPlanRequest(
        id=plan.id, etag=renamed.etag), metadata=team)
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await reports.GetCommissionPlan(cpb.GetCommissionPlanRequest(id=plan.id), metadata=team)
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND


# -- the built-in `commissions` report: GetCommissionReport as rows --------------------------

async def _categorised(billing: Billing, price: str, category: str) -> str:
    product = (await billing.products.CreateProduct(ppb.CreateProductRequest(
        product=ppb.Product(sku=f"C-{uuid.uuid4().hex[:10]}", name="Thing", category=category,
                            unit_price=usd(price), tax_rate="0.10")),
        metadata=billing.md)).product
    await billing.products.AdjustStock(ppb.AdjustStockRequest(
        product_id=product.id, quantity_delta=50, reason=ppb.STOCK_MOVEMENT_REASON_RECEIPT),
        metadata=billing.md)
    return product.id


async def _invoiced(billing: Billing, owner: str, *lines: tuple[str, int]) -> ipb.Invoice:
    customer = await billing.customer()
    order = await billing.order(customer.id, *(line(p, q) for p, q in lines), owner_id=owner)
    await billing.confirm(order.id)
    return await billing.finalize((await billing.invoice_order(order.id)).id)


def _line_row(rep: cpb.RepCommission, x: cpb.CommissionLine) -> dict[str, str]:
    described = {r.rule_id: r.description for r in rep.rules}
    return {"owner_id": rep.owner_id, "team_id": x.team_id, "currency": rep.currency_code,
            "rule_id": x.rule_id, "rule": described[x.rule_id], "kind": x.kind,
            "document_id": x.document_id, "number": x.number, "invoice_id": x.invoice_id,
            "invoice_number": x.invoice_number, "day": x.day, "base": x.base.amount,
            "commission": x.commission.amount}


async def test_the_commissions_report_exports_the_commission_reports_lines_and_totals(running):
    """Tiers crossed, a category rule for one rep and a clawback: the CSV export of the
    `commissions` report is GetCommissionReport's lines, row for row, and its commission
    column adds up to the report's totals to the cent, in the caller's scope."""
    manager = running.token("manager-cx", Role.SALES_MANAGER, "team-cx")
    rep = running.token("rep-cx", Role.SALES_REP, "team-cx")
    reports = rgrpc.ReportServiceStub(running.channel)
    billing = Billing(running.channel, manager)
    plan = (await reports.CreateCommissionPlan(cpb.CreateCommissionPlanRequest(
        commission_plan=_plan(name="Tiers and tools", rules=[
            cpb.CommissionRule(team_id="team-cx", currency_code="USD", tiers=[
                cpb.CommissionTier(from_amount="0", to_amount="100", rate="0.05"),
                cpb.CommissionTier(from_amount="100", rate="0.10")]),
            cpb.CommissionRule(owner_id="rep-cx", category="tools", rate="0.08")])),
        metadata=manager)).commission_plan
    tool = await _categorised(billing, "40.00", "tools")
    other = await _categorised(billing, "33.33", "")
    await _invoiced(billing, "manager-cx", (other, 5))  # 166.65: crosses the tier
    theirs = await _invoiced(billing, "rep-cx", (tool, 3), (other, 1))
    await billing.credit(theirs.id, (1, 1))  # a tool returned: claws back at 8%

    def wanted(md):
        return reports.GetCommissionReport(cpb.GetCommissionReportRequest(
            plan_id=plan.id, start_date=TODAY, end_date=TODAY), metadata=md)

    filter_ = f'plan_id = "{plan.id}"'
    for md, owners in ((manager, {"manager-cx", "rep-cx"}), (rep, {"rep-cx"})):
        expected = await wanted(md)
        assert {r.owner_id for r in expected.reps} == owners
        lines = [_line_row(r, x) for r in expected.reps for x in r.lines]
        got = await export(reports, request("commissions", filter=filter_, start_date=TODAY,
                                            end_date=TODAY), md)
        rows = list(csv.DictReader(io.StringIO(got.data.decode(), newline="")))
        assert rows == lines
        assert got.header.estimated_row_count == got.trailer.row_count == len(rows)
        totals: dict[str, Decimal] = {}
        for row in rows:
            totals[row["currency"]] = totals.get(row["currency"], D(0)) + D(row["commission"])
        assert totals == {m.currency_code: D(m.amount) for m in expected.totals}
        ran = await reports.RunReport(rpb.RunReportRequest(
            report_id="commissions", filter=filter_, start_date=TODAY, end_date=TODAY),
            metadata=md)
        assert [[v.WhichOneof("kind") and str(getattr(v, v.WhichOneof("kind")))
                 for v in r.values] for r in ran.rows] == [list(x.values()) for x in lines]

    by_manager = await wanted(manager)
    [mgr] = [r for r in by_manager.reps if r.owner_id == "manager-cx"]
    assert D(mgr.commission.amount) == D("11.67")  # 100 at 5% + 66.65 at 10%, rounded once
    [theirs_rep] = [r for r in by_manager.reps if r.owner_id == "rep-cx"]
    kinds = {(x.kind, x.rule_id) for x in theirs_rep.lines}
    assert ("credit_note", "rule-2") in kinds and ("invoice", "rule-1") in kinds
    assert D(theirs_rep.commission.amount) == D("80.00") * D("0.08") + D("1.67")

    # Other conditions filter the lines; the totals of what is left are the same lines'.
    got = await export(reports, request("commissions", filter=f'{filter_} AND kind = '
                                        'CREDIT_NOTE', start_date=TODAY, end_date=TODAY),
                       manager)
    [clawback] = list(csv.DictReader(io.StringIO(got.data.decode(), newline="")))
    assert clawback["kind"] == "credit_note" and D(clawback["commission"]) == D("-3.20")


async def test_the_commissions_report_needs_its_plan_and_both_days(running):
    manager = running.token("manager-cx", Role.SALES_MANAGER, "team-cx")
    reports = rgrpc.ReportServiceStub(running.channel)
    for fields, where in (({"start_date": TODAY, "end_date": TODAY}, "filter"),
                          ({"filter": 'plan_id = "a" AND plan_id = "b"', "start_date": TODAY,
                            "end_date": TODAY}, "filter"),
                          ({"filter": f'plan_id = "{"a" * 24}"', "start_date": TODAY},
                           "end_date")):
        failure = await fails(reports.RunReport(rpb.RunReportRequest(
            report_id="commissions", **fields), metadata=manager),
            grpc.StatusCode.INVALID_ARGUMENT)
        assert where in failure.fields, failure.fields
    missing = await fails(reports.RunReport(rpb.RunReportRequest(
        report_id="commissions", filter=f'plan_id = "{"a" * 24}"', start_date=TODAY,
        end_date=TODAY), metadata=manager), grpc.StatusCode.NOT_FOUND)
    assert missing.info is not None and missing.info.reason == "COMMISSION_PLAN_NOT_FOUND"
