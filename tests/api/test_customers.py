"""CustomerService over the wire: create, get, update with masks and etags, archive."""

from __future__ import annotations

import asyncio

from google.protobuf.field_mask_pb2 import FieldMask
from grpc import StatusCode

from erp.sales.v1 import address_pb2
from erp.sales.v1 import customer_service_pb2 as pb
from sales_grpc.domain.access import Role

from .helpers import create_customer, customer, customers, fails, money, unique


async def test_a_created_customer_gets_an_id_a_code_and_the_documented_defaults(running, rep):
    created = await create_customer(running, rep, email="defaults@example.com")
    assert len(created.id) == 24
    assert created.customer_code.startswith("CUST-")
    assert created.status == pb.CUSTOMER_STATUS_ACTIVE
    assert created.payment_terms == pb.PAYMENT_TERMS_NET_30
    assert (created.owner_id, created.team_id) == ("rep-1", "team-a")
    assert created.audit.create_actor == "rep-1"
    assert created.etag
    assert not created.HasField("delete_time")


async def test_output_only_fields_sent_on_create_are_ignored(running, rep):
    created = await create_customer(running, rep, id="0" * 24, customer_code="CUST-999999",
                                    etag="v99", sales_stats=pb.CustomerSalesStats(order_count=7))
    assert created.id != "0" * 24
    assert created.customer_code != "CUST-999999"
    assert created.sales_stats.order_count == 0


async def test_every_field_survives_a_round_trip(running, manager):
    address = address_pb2.PostalAddress(address_lines=["1 Main St", "Suite 2"],
                                        locality="Springfield", administrative_area="IL",
                                        postal_code="62701", region_code="US")
    created = await create_customer(
        running, manager, customer_type=pb.CUSTOMER_TYPE_BUSINESS, company_name="Acme Ltd",
        phone="+1 (555) 010-0000", billing_address=address, shipping_address=address,
        payment_terms=pb.PAYMENT_TERMS_NET_60, credit_limit=money("5000.50"),
        tax_id="US-123", notes="line one\nline two", status=pb.CUSTOMER_STATUS_PROSPECT)
    fetched = (await customers(running).GetCustomer(pb.GetCustomerRequest(id=created.id),
                                                    metadata=manager)).customer
    assert fetched == created
    assert fetched.credit_limit.amount == "5000.50"
    assert list(fetched.billing_address.address_lines) == ["1 Main St", "Suite 2"]
    assert fetched.payment_terms == pb.PAYMENT_TERMS_NET_60


async def test_a_business_without_a_company_name_is_invalid_argument(running, rep):
    failure = await fails(customers(running).CreateCustomer(pb.CreateCustomerRequest(
        customer=customer(customer_type=pb.CUSTOMER_TYPE_BUSINESS)), metadata=rep),
        StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"customer.company_name"}


async def test_every_bad_field_is_reported_at_once_with_its_path(running, rep):
    failure = await fails(customers(running).CreateCustomer(pb.CreateCustomerRequest(
        customer=pb.Customer(first_name="", last_name="Lee", email="nope", phone="call me",
                             credit_limit=money("-1"))), metadata=rep),
        StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"customer.first_name", "customer.email", "customer.phone",
                                   "customer.customer_type", "customer.credit_limit.amount"}
    assert failure.info.reason == "INVALID_ARGUMENT"


async def test_a_bad_credit_limit_currency_is_reported_on_the_currency_code(running, rep):
    failure = await fails(customers(running).CreateCustomer(pb.CreateCustomerRequest(
        customer=customer(credit_limit=money("10", "XXX"))), metadata=rep),
        StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"customer.credit_limit.currency_code"}


async def test_an_enum_value_outside_the_contract_is_invalid_argument(running, rep):
    failure = await fails(customers(running).CreateCustomer(pb.CreateCustomerRequest(
        customer=customer(customer_type=42)), metadata=rep), StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"customer.customer_type"}


async def test_getting_an_unknown_customer_is_not_found(running, rep):
    failure = await fails(customers(running).GetCustomer(
        pb.GetCustomerRequest(id="0123456789abcdef01234567"), metadata=rep),
        StatusCode.NOT_FOUND)
    assert failure.info.reason == "CUSTOMER_NOT_FOUND"


async def test_getting_a_malformed_id_is_invalid_argument(running, rep):
    failure = await fails(customers(running).GetCustomer(pb.GetCustomerRequest(id="zz"),
                                                         metadata=rep),
                          StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"id"}


async def test_the_same_request_id_twice_creates_one_customer(running):
    subject = unique("rep")
    metadata = running.token(subject, Role.SALES_REP, unique("team"))
    request = pb.CreateCustomerRequest(customer=customer(), request_id=unique("req"))
    first = (await customers(running).CreateCustomer(request, metadata=metadata)).customer
    second = (await customers(running).CreateCustomer(request, metadata=metadata)).customer
    assert (second.id, second.customer_code) == (first.id, first.customer_code)
    listed = await customers(running).ListCustomers(pb.ListCustomersRequest(), metadata=metadata)
    assert [c.id for c in listed.customers] == [first.id]


async def test_concurrent_retries_with_one_request_id_create_one_customer(running):
    metadata = running.token(unique("rep"), Role.SALES_REP, unique("team"))
    request = pb.CreateCustomerRequest(customer=customer(), request_id=unique("req"))
    replies = await asyncio.gather(*(customers(running).CreateCustomer(request, metadata=metadata)
                                     for _ in range(4)))
    assert len({r.customer.id for r in replies}) == 1
    listed = await customers(running).ListCustomers(pb.ListCustomersRequest(), metadata=metadata)
    assert len(listed.customers) == 1


async def test_a_request_id_over_one_hundred_characters_is_invalid_argument(running, rep):
    failure = await fails(customers(running).CreateCustomer(pb.CreateCustomerRequest(
        customer=customer(), request_id="r" * 101), metadata=rep), StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"request_id"}


async def test_update_changes_only_the_masked_fields_and_moves_the_etag(running, rep):
    created = await create_customer(running, rep, notes="keep me")
    changed = pb.Customer(id=created.id, email="new@example.com", first_name="Ignored")
    updated = (await customers(running).UpdateCustomer(pb.UpdateCustomerRequest(
        customer=changed, update_mask=FieldMask(paths=["email"])), metadata=rep)).customer
    assert updated.email == "new@example.com"
    assert (updated.first_name, updated.notes) == ("Ann", "keep me")
    assert updated.etag != created.etag
    assert updated.audit.update_time.ToDatetime() >= created.audit.update_time.ToDatetime()
    fetched = await customers(running).GetCustomer(pb.GetCustomerRequest(id=created.id),
                                                   metadata=rep)
    assert fetched.customer == updated


async def test_update_with_the_current_etag_succeeds_and_a_stale_one_is_aborted(running, rep):
    created = await create_customer(running, rep)
    stub = customers(running)
    await stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=created.id, notes="first", etag=created.etag),
        update_mask=FieldMask(paths=["notes"])), metadata=rep)
    failure = await fails(stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=created.id, notes="second", etag=created.etag),
        update_mask=FieldMask(paths=["notes"])), metadata=rep), StatusCode.ABORTED)
    assert failure.info.reason == "STALE_ETAG"
    fetched = await stub.GetCustomer(pb.GetCustomerRequest(id=created.id), metadata=rep)
    assert fetched.customer.notes == "first"


async def test_an_unknown_mask_path_is_invalid_argument_naming_update_mask(running, rep):
    created = await create_customer(running, rep)
    failure = await fails(customers(running).UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=created.id), update_mask=FieldMask(paths=["nickname"])),
        metadata=rep), StatusCode.INVALID_ARGUMENT)
    assert "update_mask" in failure.fields
    assert "nickname" in failure.fields["update_mask"]


async def test_an_output_only_mask_path_or_an_empty_mask_is_invalid_argument(running, rep):
    created = await create_customer(running, rep)
    for paths in (["customer_code"], ["etag"], []):
        failure = await fails(customers(running).UpdateCustomer(pb.UpdateCustomerRequest(
            customer=pb.Customer(id=created.id, customer_code="CUST-1"),
            update_mask=FieldMask(paths=paths)), metadata=rep), StatusCode.INVALID_ARGUMENT)
        assert "update_mask" in failure.fields


async def test_an_update_to_an_unspecified_status_is_invalid_argument(running, rep):
    created = await create_customer(running, rep)
    failure = await fails(customers(running).UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=created.id), update_mask=FieldMask(paths=["status"])),
        metadata=rep), StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"customer.status"}


async def test_updating_an_unknown_customer_is_not_found(running, rep):
    await fails(customers(running).UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id="0123456789abcdef01234567", notes="x"),
        update_mask=FieldMask(paths=["notes"])), metadata=rep), StatusCode.NOT_FOUND)


async def test_delete_archives_the_customer_and_hides_it_from_lists(running, manager):
    created = await create_customer(running, manager, last_name=unique("Archived"))
    stub = customers(running)
    deleted = (await stub.DeleteCustomer(pb.DeleteCustomerRequest(id=created.id),
                                         metadata=manager)).customer
    assert deleted.HasField("delete_time")
    fetched = (await stub.GetCustomer(pb.GetCustomerRequest(id=created.id),
                                      metadata=manager)).customer
    assert fetched.delete_time == deleted.delete_time
    text = f'text:"{created.last_name}"'
    live = await stub.ListCustomers(pb.ListCustomersRequest(filter=text), metadata=manager)
    assert live.customers == []
    archived = await stub.ListCustomers(pb.ListCustomersRequest(filter=text, show_deleted=True),
                                        metadata=manager)
    assert [c.id for c in archived.customers] == [created.id]
    found = await stub.SearchCustomers(pb.SearchCustomersRequest(query=created.last_name),
                                       metadata=manager)
    assert found.customers == []


async def test_deleting_twice_is_failed_precondition(running, manager):
    created = await create_customer(running, manager)
    stub = customers(running)
    await stub.DeleteCustomer(pb.DeleteCustomerRequest(id=created.id), metadata=manager)
    failure = await fails(stub.DeleteCustomer(pb.DeleteCustomerRequest(id=created.id),
                                              metadata=manager), StatusCode.FAILED_PRECONDITION)
    assert failure.info.reason == "CUSTOMER_DELETED"


async def test_deleting_with_a_stale_etag_is_aborted_and_keeps_the_customer(running, manager):
    created = await create_customer(running, manager)
    stub = customers(running)
    await stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=created.id, notes="changed"),
        update_mask=FieldMask(paths=["notes"])), metadata=manager)
    await fails(stub.DeleteCustomer(pb.DeleteCustomerRequest(id=created.id, etag=created.etag),
                                    metadata=manager), StatusCode.ABORTED)
    fetched = await stub.GetCustomer(pb.GetCustomerRequest(id=created.id), metadata=manager)
    assert not fetched.customer.HasField("delete_time")


async def test_updating_a_deleted_customer_is_failed_precondition(running, manager):
    created = await create_customer(running, manager)
    stub = customers(running)
    await stub.DeleteCustomer(pb.DeleteCustomerRequest(id=created.id), metadata=manager)
    await fails(stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=created.id, notes="x"), update_mask=FieldMask(paths=["notes"])),
        metadata=manager), StatusCode.FAILED_PRECONDITION)


async def test_deleting_an_unknown_customer_is_not_found(running, manager):
    await fails(customers(running).DeleteCustomer(
        pb.DeleteCustomerRequest(id="0123456789abcdef01234567"), metadata=manager),
        StatusCode.NOT_FOUND)


async def test_two_concurrent_updates_with_one_etag_let_exactly_one_win(running, rep):
    created = await create_customer(running, rep)
    stub = customers(running)
    replies = await asyncio.gather(*(stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=created.id, notes=f"writer {i}", etag=created.etag),
        update_mask=FieldMask(paths=["notes"])), metadata=rep) for i in range(2)),
        return_exceptions=True)
    won = [r for r in replies if isinstance(r, pb.UpdateCustomerResponse)]
    lost = [r for r in replies if not isinstance(r, pb.UpdateCustomerResponse)]
    assert len(won) == 1
    assert [r.code() for r in lost] == [StatusCode.ABORTED]
    fetched = await stub.GetCustomer(pb.GetCustomerRequest(id=created.id), metadata=rep)
    assert fetched.customer.notes == won[0].customer.notes


async def test_one_request_id_used_by_two_callers_creates_two_customers(running):
    team = unique("team")
    request = pb.CreateCustomerRequest(customer=customer(), request_id=unique("shared"))
    first = await customers(running).CreateCustomer(
        request, metadata=running.token(unique("rep"), Role.SALES_REP, team))
    second = await customers(running).CreateCustomer(
        request, metadata=running.token(unique("rep"), Role.SALES_REP, team))
    assert first.customer.id != second.customer.id
    assert first.customer.owner_id != second.customer.owner_id


async def test_an_unspecified_customer_type_is_invalid_argument(running, rep):
    failure = await fails(customers(running).CreateCustomer(pb.CreateCustomerRequest(
        customer=customer(customer_type=pb.CUSTOMER_TYPE_UNSPECIFIED)), metadata=rep),
        StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"customer.customer_type"}


async def test_fields_outside_the_update_mask_are_ignored_even_if_invalid(running, rep):
    created = await create_customer(running, rep)
    updated = (await customers(running).UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=created.id, notes="only this", status=99,
                             credit_limit=money("1", "XXX")),
        update_mask=FieldMask(paths=["notes"])), metadata=rep)).customer
    assert updated.notes == "only this"
    assert updated.status == created.status
    assert not updated.HasField("credit_limit")
