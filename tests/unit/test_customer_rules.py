"""Customer rules: every field's check, company for businesses, assignment, masks, updates."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sales_grpc.domain import customers as rules
from sales_grpc.domain.access import Principal, Role
from sales_grpc.domain.customers import CustomerStatus, CustomerType, PaymentTerms
from sales_grpc.domain.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from sales_grpc.domain.money import Money
from sales_grpc.domain.records import Address

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
REP = Principal("rep-1", Role.SALES_REP, team_id="team-a")
MANAGER = Principal("manager-a", Role.SALES_MANAGER, team_id="team-a")
ADMIN = Principal("admin-1", Role.ADMIN)


def _values(**overrides):
    values = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com",
              "customer_type": CustomerType.INDIVIDUAL}
    values.update(overrides)
    return values


def _new(principal=REP, **overrides):
    return rules.new_customer(_values(**overrides), id="a" * 24, code="CUST-000001",
                              principal=principal, now=NOW)


def _violations(**overrides) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as error:
        _new(**overrides)
    return {v.field: v.description for v in error.value.violations}


def test_a_new_customer_gets_the_documented_defaults():
    customer = _new()
    assert customer.status is CustomerStatus.ACTIVE
    assert customer.payment_terms is PaymentTerms.NET_30
    assert (customer.owner_id, customer.team_id) == ("rep-1", "team-a")
    assert customer.audit.create_actor == "rep-1"
    assert customer.etag == "v1"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"first_name": ""}, "customer.first_name"),
    ({"first_name": "   "}, "customer.first_name"),
    ({"first_name": "x" * 101}, "customer.first_name"),
    ({"last_name": ""}, "customer.last_name"),
    ({"last_name": "y" * 101}, "customer.last_name"),
    ({"last_name": "Lee\x00"}, "customer.last_name"),
    ({"company_name": "c" * 201}, "customer.company_name"),
    ({"tax_id": "t" * 51}, "customer.tax_id"),
    ({"notes": "n" * 2001}, "customer.notes"),
    ({"email": ""}, "customer.email"),
    ({"email": "not-an-email"}, "customer.email"),
    ({"email": "ann@localhost"}, "customer.email"),
    ({"email": "a" * 250 + "@example.com"}, "customer.email"),
    ({"phone": "call me"}, "customer.phone"),
    ({"phone": "12"}, "customer.phone"),
    ({"phone": "1" * 41}, "customer.phone"),
    ({"customer_type": None}, "customer.customer_type"),
    ({"credit_limit": Money("USD", Decimal("-0.01"))}, "customer.credit_limit.amount"),
    ({"owner_id": "o" * 101}, "customer.owner_id"),
    ({"billing_address": Address(region_code="usa")}, "customer.billing_address.region_code"),
    ({"shipping_address": Address(address_lines=("l",) * 6)},
     "customer.shipping_address.address_lines"),
    ({"billing_address": Address(address_lines=("ok", "x" * 201))},
     "customer.billing_address.address_lines[1]"),
    ({"billing_address": Address(postal_code="p" * 101)},
     "customer.billing_address.postal_code"),
])
def test_each_bad_field_is_reported_by_its_path(overrides, field):
    assert field in _violations(**overrides)


def test_every_bad_field_is_reported_at_once():
    found = _violations(first_name="", email="nope", phone="letters")
    assert set(found) == {"customer.first_name", "customer.email", "customer.phone"}


def test_an_unspecified_status_on_update_is_rejected():
    customer = _new()
    with pytest.raises(InvalidArgument) as error:
        rules.apply_update(customer, {"status": None}, principal=REP, now=NOW)
    assert error.value.violations[0].field == "customer.status"


@pytest.mark.parametrize("kind", [CustomerType.BUSINESS, CustomerType.GOVERNMENT])
def test_business_and_government_customers_need_a_company_name(kind):
    assert "customer.company_name" in _violations(customer_type=kind, company_name=" ")
    assert _new(customer_type=kind, company_name="Acme").company_name == "Acme"


def test_an_individual_needs_no_company_name():
    assert _new(company_name="").company_name == ""


def test_a_valid_customer_with_every_field_is_accepted():
    customer = _new(MANAGER, company_name="Acme", customer_type=CustomerType.BUSINESS,
                    phone="+1 (555) 010-0000", tax_id="DE123",
                    billing_address=Address(("1 Main St",), "Springfield", "IL", "62701", "US"),
                    credit_limit=Money("USD", Decimal("5000")), notes="line\nbreak\ttab")
    assert customer.credit_limit == Money("USD", Decimal("5000"))


def test_a_rep_cannot_create_a_customer_for_another_owner():
    with pytest.raises(PermissionDenied):
        _new(owner_id="rep-2")


def test_a_rep_cannot_create_a_customer_in_another_team():
    with pytest.raises(PermissionDenied):
        _new(team_id="team-b")


def test_a_manager_can_assign_within_their_team_but_not_to_another():
    assert _new(MANAGER, owner_id="rep-7").owner_id == "rep-7"
    with pytest.raises(PermissionDenied):
        _new(MANAGER, owner_id="rep-7", team_id="team-b")


def test_an_admin_can_assign_anywhere():
    customer = _new(ADMIN, owner_id="rep-9", team_id="team-z")
    assert (customer.owner_id, customer.team_id) == ("rep-9", "team-z")


def test_an_update_bumps_the_version_and_stamps_the_actor():
    customer = _new()
    later = NOW + timedelta(minutes=5)
    updated = rules.apply_update(customer, {"email": "new@example.com"}, principal=REP, now=later)
    assert updated.email == "new@example.com"
    assert updated.etag == "v2"
    assert (updated.audit.update_actor, updated.audit.update_time) == ("rep-1", later)
    assert updated.audit.create_time == NOW
    assert customer.email == "ann@example.com"


def test_changing_to_business_without_a_company_is_rejected():
    customer = _new()
    with pytest.raises(InvalidArgument) as error:
        rules.apply_update(customer, {"customer_type": CustomerType.BUSINESS}, principal=REP,
                           now=NOW)
    assert error.value.violations[0].field == "customer.company_name"


def test_a_rep_cannot_reassign_their_customer_to_another_rep():
    customer = _new()
    with pytest.raises(PermissionDenied):
        rules.apply_update(customer, {"owner_id": "rep-2"}, principal=REP, now=NOW)


def test_a_deleted_customer_cannot_be_updated():
    customer = _new()
    customer.delete_time = NOW
    with pytest.raises(FailedPrecondition):
        rules.apply_update(customer, {"notes": "x"}, principal=REP, now=NOW)


def test_a_mask_of_editable_fields_is_accepted_and_deduplicated():
    assert rules.check_mask(["email", "billing_address.locality", "email"]) == [
        "billing_address", "email"]


@pytest.mark.parametrize("paths", [[], ["id"], ["customer_code"], ["etag"], ["sales_stats"],
                                   ["audit"], ["delete_time"], ["nickname"], ["email.domain"]])
def test_a_bad_or_missing_mask_is_invalid_argument_on_update_mask(paths):
    with pytest.raises(InvalidArgument) as error:
        rules.check_mask(paths)
    assert {v.field for v in error.value.violations} == {"update_mask"}


def test_a_blank_owner_is_rejected_on_create_and_update():
    assert "customer.owner_id" in _violations(principal=ADMIN, owner_id="   ")
    customer = _new(MANAGER)
    with pytest.raises(InvalidArgument) as error:
        rules.apply_update(customer, {"owner_id": ""}, principal=MANAGER, now=NOW)
    assert error.value.violations[0].field == "customer.owner_id"
