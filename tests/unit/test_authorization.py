"""The role x move table: who may make which business move, and the rules built on it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from erp.sales.v1 import (
    annotations_pb2,
    invoice_service_pb2,
    product_service_pb2,
    report_service_pb2,
)
from sales_grpc.domain import customers, orders
from sales_grpc.domain.access import Principal, Role
from sales_grpc.domain.authorization import (
    RULES,
    Move,
    allows,
    authorize,
    check_assignment,
)
from sales_grpc.domain.customers import CustomerStatus, PaymentTerms
from sales_grpc.domain.documents import lines as document_lines
from sales_grpc.domain.errors import InvalidArgument, PermissionDenied
from sales_grpc.domain.money import Money
from sales_grpc.domain.pricing import LineAmounts, effective_discount

REP = Principal("rep-1", Role.SALES_REP, team_id="team-a")
MANAGER = Principal("manager-a", Role.SALES_MANAGER, team_id="team-a")
ADMIN = Principal("admin-1", Role.ADMIN)
NOW = datetime(2026, 11, 27, tzinfo=UTC)

# Expected: (rep, manager, admin) for every move. A new move must be added here on purpose.
EXPECTED = {
    Move.SET_CREDIT_LIMIT: (False, True, True),
    Move.SET_PAYMENT_TERMS: (False, True, True),
    Move.SUSPEND_CUSTOMER: (False, True, True),
    Move.LIFT_SUSPENSION: (False, True, True),
    Move.ASSIGN_OWNER: (False, True, True),
    Move.ASSIGN_TEAM: (False, False, True),
    Move.DISCOUNT_ABOVE_LIMIT: (False, True, True),
    Move.OVERRIDE_CREDIT_LIMIT: (False, True, True),
    Move.EDIT_CATALOG: (False, True, True),
    Move.ADJUST_STOCK: (False, True, True),
    Move.RECORD_PAYMENT: (False, True, True),
    Move.VOID_INVOICE: (False, True, True),
    Move.WRITE_OFF_INVOICE: (False, True, True),
    Move.ISSUE_CREDIT_NOTE: (False, True, True),
    Move.MANAGE_EXCHANGE_RATES: (False, False, True),
    Move.MANAGE_COMMISSION_PLANS: (False, True, True),
}


def test_every_move_has_an_expected_row_in_this_test():
    assert set(EXPECTED) == set(Move) == set(RULES)


@pytest.mark.parametrize("move", list(Move))
def test_each_role_may_make_exactly_the_moves_of_the_table(move):
    assert (allows(REP, move), allows(MANAGER, move), allows(ADMIN, move)) == EXPECTED[move]


def test_a_refused_move_names_who_may_make_it_and_its_reason():
    with pytest.raises(PermissionDenied) as refused:
        authorize(REP, Move.SET_CREDIT_LIMIT, detail="credit_limit")
    assert refused.value.reason == "CREDIT_TERMS_NOT_ALLOWED"
    assert "sales manager or admin" in refused.value.message
    assert refused.value.metadata["move"] == "set_credit_limit"


def test_a_dedicated_permission_lets_a_rep_change_the_catalog_but_not_the_stock():
    clerk = Principal("clerk", Role.SALES_REP, frozenset({"sales:catalog"}), "team-a")
    assert allows(clerk, Move.EDIT_CATALOG)
    assert not allows(clerk, Move.ADJUST_STOCK)
    assert not allows(clerk, Move.SET_CREDIT_LIMIT)
    with pytest.raises(PermissionDenied) as refused:
        authorize(clerk, Move.ADJUST_STOCK)
    assert "sales:stock" in refused.value.message


def test_the_contract_declares_the_permissions_the_table_grants():
    """The `elevated_permission` option on each catalog and stock RPC is the permission the
    table's move accepts, so what clients read in the contract is what the server does."""
    service = product_service_pb2.DESCRIPTOR.services_by_name["ProductService"]
    declared = {m.name: m.GetOptions().Extensions[annotations_pb2.elevated_permission]
                for m in service.methods}
    assert {name: perm for name, perm in declared.items() if perm} == {
        "CreateProduct": RULES[Move.EDIT_CATALOG].permission,
        "UpdateProduct": RULES[Move.EDIT_CATALOG].permission,
        "DeleteProduct": RULES[Move.EDIT_CATALOG].permission,
        "AdjustStock": RULES[Move.ADJUST_STOCK].permission,
    }


def test_the_invoice_contract_declares_the_billing_permission_the_table_grants():
    service = invoice_service_pb2.DESCRIPTOR.services_by_name["InvoiceService"]
    declared = {m.name: m.GetOptions().Extensions[annotations_pb2.elevated_permission]
                for m in service.methods}
    assert {name: perm for name, perm in declared.items() if perm} == {
        "RecordPayment": RULES[Move.RECORD_PAYMENT].permission,
        "VoidInvoice": RULES[Move.VOID_INVOICE].permission,
        "MarkInvoiceUncollectible": RULES[Move.WRITE_OFF_INVOICE].permission,
        "CreateCreditNote": RULES[Move.ISSUE_CREDIT_NOTE].permission,
    }


def test_the_commission_plan_rpcs_declare_no_permission_as_the_table_grants_none():
    """Commission plans are the managers' and admins' (no dedicated permission lets a rep
    manage them), so the contract declares no `elevated_permission` on ReportService."""
    service = report_service_pb2.DESCRIPTOR.services_by_name["ReportService"]
    plan_rpcs = {m.name for m in service.methods if m.name.endswith(
        ("CommissionPlan", "CommissionPlans"))}
    assert plan_rpcs == {"CreateCommissionPlan", "GetCommissionPlan", "ListCommissionPlans",
                         "UpdateCommissionPlan", "DeleteCommissionPlan"}
    assert RULES[Move.MANAGE_COMMISSION_PLANS].permission == ""
    assert not [m.name for m in service.methods
                if m.GetOptions().Extensions[annotations_pb2.elevated_permission]]
    with pytest.raises(PermissionDenied) as refused:
        authorize(Principal("rep-1", Role.SALES_REP, frozenset({"sales:billing"}), "team-a"),
                  Move.MANAGE_COMMISSION_PLANS)
    assert refused.value.reason == "COMMISSION_PLAN_NOT_ALLOWED"
    assert "sales manager or admin" in refused.value.message


def test_a_billing_clerk_may_record_payments_but_not_change_the_catalog():
    clerk = Principal("ar-clerk", Role.SALES_REP, frozenset({"sales:billing"}), "team-a")
    assert all(allows(clerk, move) for move in (Move.RECORD_PAYMENT, Move.VOID_INVOICE,
                                                 Move.WRITE_OFF_INVOICE,
                                                 Move.ISSUE_CREDIT_NOTE))
    assert not allows(clerk, Move.EDIT_CATALOG)
    assert not allows(REP, Move.RECORD_PAYMENT)
    with pytest.raises(PermissionDenied) as refused:
        authorize(REP, Move.ISSUE_CREDIT_NOTE)
    assert refused.value.reason == "BILLING_NOT_ALLOWED"
    assert "sales:billing" in refused.value.message


def test_assignment_keeps_reps_to_themselves_and_managers_to_their_team():
    check_assignment(REP, "rep-1", "team-a")
    check_assignment(MANAGER, "rep-2", "team-a")
    check_assignment(ADMIN, "rep-9", "team-z")
    for principal, owner, team in ((REP, "rep-2", "team-a"), (REP, "rep-1", "team-b"),
                                   (MANAGER, "rep-2", "team-b")):
        with pytest.raises(PermissionDenied) as refused:
            check_assignment(principal, owner, team)
        assert refused.value.reason == "ASSIGNMENT_NOT_ALLOWED"


# -- customers: credit terms and suspensions -----------------------------------------------

def _customer(principal=MANAGER, **values):
    base = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com",
            "customer_type": customers.CustomerType.INDIVIDUAL, "owner_id": "rep-1",
            "team_id": "team-a"}
    return customers.new_customer({**base, **values}, id="a" * 24, code="CUST-000001",
                                  principal=principal, now=NOW)


@pytest.mark.parametrize("changes", [
    {"credit_limit": Money("USD", Decimal("999999999999.00"))},
    {"credit_limit": None},
    {"payment_terms": PaymentTerms.NET_90},
    {"status": CustomerStatus.SUSPENDED},
])
def test_a_rep_cannot_make_credit_decisions_on_their_customer(changes):
    customer = _customer(credit_limit=Money("USD", Decimal("100.00")))
    with pytest.raises(PermissionDenied):
        customers.apply_update(customer, changes, principal=REP, now=NOW)
    updated = customers.apply_update(customer, changes, principal=MANAGER, now=NOW)
    assert all(getattr(updated, name) == value for name, value in changes.items())


def test_only_a_manager_or_admin_lifts_a_suspension():
    suspended = _customer(ADMIN, status=CustomerStatus.SUSPENDED)
    with pytest.raises(PermissionDenied) as refused:
        customers.apply_update(suspended, {"status": CustomerStatus.ACTIVE}, principal=REP,
                               now=NOW)
    assert refused.value.reason == "SUSPENSION_NOT_ALLOWED"
    lifted = customers.apply_update(suspended, {"status": CustomerStatus.ACTIVE},
                                    principal=MANAGER, now=NOW)
    assert lifted.status is CustomerStatus.ACTIVE


def test_a_rep_may_still_edit_a_customer_with_credit_terms_set_by_a_manager():
    customer = _customer(credit_limit=Money("USD", Decimal("100.00")),
                         payment_terms=PaymentTerms.NET_60)
    updated = customers.apply_update(customer, {"notes": "call on Monday",
                                                "status": CustomerStatus.INACTIVE},
                                     principal=REP, now=NOW)
    assert updated.credit_limit == customer.credit_limit
    assert updated.status is CustomerStatus.INACTIVE


def test_a_rep_creates_customers_with_the_default_terms_only():
    assert _customer(REP).payment_terms is PaymentTerms.NET_30
    for values in ({"credit_limit": Money("USD", Decimal("1"))},
                   {"payment_terms": PaymentTerms.NET_90},
                   {"status": CustomerStatus.SUSPENDED}):
        with pytest.raises(PermissionDenied):
            _customer(REP, **values)


# -- orders: effective discounts and assignment ---------------------------------------------

@pytest.mark.parametrize(("list_price", "price", "line", "order", "expected"), [
    ("50.00", "50.00", "0", "0", "0"),
    ("50.00", "0.00", "0", "0", "1"),          # given away
    ("50.00", "40.00", "0", "0", "0.2"),       # a price override is a discount
    ("50.00", "50.00", "0.2", "0.2", "0.36"),  # discounts stack multiplicatively
    ("50.00", "45.00", "0.1", "0.1", "0.271"),
    ("50.00", "60.00", "0", "0", "0"),         # a markup is no discount
    ("0", "10.00", "0.5", "0", "0"),           # nothing listed to discount from
])
def test_the_effective_discount_combines_price_line_and_order_discounts(
        list_price, price, line, order, expected):
    rate = effective_discount(Decimal(list_price), Decimal(price), Decimal(line), Decimal(order))
    assert rate == Decimal(expected)


def _line(list_price: str, price: str, discount: str = "0") -> document_lines.DocumentLine:
    return document_lines.DocumentLine(
        "p" * 24, "SKU-1", "Thing", 1, Decimal(price), price != list_price, Decimal(discount),
        Decimal("0.1"), LineAmounts(Decimal(0), Decimal(0), Decimal(0)), Decimal(list_price))


def test_a_rep_is_held_to_the_limit_on_each_lines_effective_discount():
    limit = Decimal("0.20")
    document_lines.check_discounts(REP, [_line("50", "50", "0.1")], Decimal("0.1"), limit,
                                   "sales_order")  # 19%
    # exactly 20%
    document_lines.check_discounts(REP, [_line("50", "40")], Decimal(0), limit, "sales_order")
    with pytest.raises(PermissionDenied) as refused:
        document_lines.check_discounts(REP, [_line("50", "50"), _line("50", "0.00")], Decimal(0),
                                       limit, "sales_order")
    assert refused.value.reason == "DISCOUNT_ABOVE_LIMIT"
    assert refused.value.metadata["field"] == "sales_order.lines[1]"
    assert refused.value.metadata["requested"] == "1"
    document_lines.check_discounts(MANAGER, [_line("50", "0.00")], Decimal(0), limit,
                                   "sales_order")


def test_an_orders_team_is_its_customers_and_only_managers_name_another_owner():
    assert orders.assignment(REP, "team-a", "", "") == ("rep-1", "team-a")
    assert orders.assignment(MANAGER, "team-a", "rep-3", "") == ("rep-3", "team-a")
    assert orders.assignment(ADMIN, "team-b", "rep-7", "team-b") == ("rep-7", "team-b")
    with pytest.raises(InvalidArgument) as wrong_team:
        orders.assignment(MANAGER, "team-a", "rep-3", "team-b")
    assert wrong_team.value.violations[0].field == "sales_order.team_id"
    with pytest.raises(PermissionDenied):
        orders.assignment(REP, "team-a", "rep-3", "")
