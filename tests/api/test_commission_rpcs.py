"""Commission plans and the commission report over the wire, through ReportService."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import grpc
import pytest
from google.protobuf import field_mask_pb2

from erp.sales.v1 import commission_pb2 as cpb
from erp.sales.v1 import invoice_service_pb2 as ipb
from erp.sales.v1 import report_service_pb2_grpc as rgrpc
from sales_grpc.domain.access import Role

from .helpers import decode
from .invoice_fixtures import Billing
from .order_fixtures import usd

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
