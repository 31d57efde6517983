"""Row-level access: reps see their own customers, managers their team's, admins all."""

from __future__ import annotations

from google.protobuf.field_mask_pb2 import FieldMask
from grpc import StatusCode

from erp.sales.v1 import customer_service_pb2 as pb
from sales_grpc.domain.access import Role

from .helpers import create_customer, customers, fails, unique


async def _team_customer(running):
    team = unique("team")
    owner = unique("rep")
    created = await create_customer(running, running.token(owner, Role.SALES_REP, team))
    return created, owner, team


async def test_another_rep_gets_not_found_for_a_customer_they_do_not_own(running):
    created, _, team = await _team_customer(running)
    other = running.token(unique("rep"), Role.SALES_REP, team)
    failure = await fails(customers(running).GetCustomer(pb.GetCustomerRequest(id=created.id),
                                                         metadata=other), StatusCode.NOT_FOUND)
    assert failure.info.reason == "CUSTOMER_NOT_FOUND"


async def test_another_rep_cannot_update_or_delete_a_customer_they_do_not_own(running):
    created, _, team = await _team_customer(running)
    other = running.token(unique("rep"), Role.SALES_REP, team, ["sales:update", "sales:delete"])
    stub = customers(running)
    await fails(stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=created.id, notes="mine now"),
        update_mask=FieldMask(paths=["notes"])), metadata=other), StatusCode.NOT_FOUND)
    await fails(stub.DeleteCustomer(pb.DeleteCustomerRequest(id=created.id), metadata=other),
                StatusCode.NOT_FOUND)


async def test_a_rep_lists_only_their_own_customers(running):
    created, owner, team = await _team_customer(running)
    await create_customer(running, running.token(unique("rep"), Role.SALES_REP, team))
    reply = await customers(running).ListCustomers(
        pb.ListCustomersRequest(), metadata=running.token(owner, Role.SALES_REP, team))
    assert [c.id for c in reply.customers] == [created.id]


async def test_the_manager_of_the_owners_team_sees_the_customer(running):
    created, _, team = await _team_customer(running)
    manager = running.token(unique("mgr"), Role.SALES_MANAGER, team)
    fetched = await customers(running).GetCustomer(pb.GetCustomerRequest(id=created.id),
                                                   metadata=manager)
    assert fetched.customer.id == created.id


async def test_the_manager_of_another_team_gets_not_found(running):
    created, _, _ = await _team_customer(running)
    manager = running.token(unique("mgr"), Role.SALES_MANAGER, unique("team"))
    await fails(customers(running).GetCustomer(pb.GetCustomerRequest(id=created.id),
                                               metadata=manager), StatusCode.NOT_FOUND)
    listed = await customers(running).ListCustomers(pb.ListCustomersRequest(), metadata=manager)
    assert created.id not in {c.id for c in listed.customers}


async def test_a_manager_without_a_team_does_not_see_customers_without_a_team(running):
    teamless = await create_customer(running, running.token(unique("rep"), Role.SALES_REP, ""))
    manager = running.token(unique("mgr"), Role.SALES_MANAGER, "")
    await fails(customers(running).GetCustomer(pb.GetCustomerRequest(id=teamless.id),
                                               metadata=manager), StatusCode.NOT_FOUND)


async def test_an_admin_sees_every_customer(running, admin):
    created, _, _ = await _team_customer(running)
    fetched = await customers(running).GetCustomer(pb.GetCustomerRequest(id=created.id),
                                                   metadata=admin)
    assert fetched.customer.id == created.id
    found = await customers(running).SearchCustomers(
        pb.SearchCustomersRequest(query=created.customer_code), metadata=admin)
    assert [c.id for c in found.customers] == [created.id]


async def test_search_never_returns_another_reps_customers(running):
    word = unique("Scoped")
    team = unique("team")
    theirs = running.token(unique("rep"), Role.SALES_REP, team)
    await create_customer(running, theirs, last_name=word)
    mine = running.token(unique("rep"), Role.SALES_REP, team)
    found = await customers(running).SearchCustomers(pb.SearchCustomersRequest(query=word),
                                                     metadata=mine)
    assert found.customers == []


async def test_a_rep_cannot_create_a_customer_for_another_owner(running, rep):
    failure = await fails(customers(running).CreateCustomer(pb.CreateCustomerRequest(
        customer=pb.Customer(first_name="A", last_name="B", email="a@b.example",
                             customer_type=pb.CUSTOMER_TYPE_INDIVIDUAL, owner_id="rep-2")),
        metadata=rep), StatusCode.PERMISSION_DENIED)
    assert failure.info.reason == "ASSIGNMENT_NOT_ALLOWED"


async def test_a_rep_cannot_reassign_their_customer_to_another_owner(running):
    created, owner, team = await _team_customer(running)
    metadata = running.token(owner, Role.SALES_REP, team)
    stub = customers(running)
    await fails(stub.UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=created.id, owner_id="rep-2"),
        update_mask=FieldMask(paths=["owner_id"])), metadata=metadata),
        StatusCode.PERMISSION_DENIED)
    fetched = await stub.GetCustomer(pb.GetCustomerRequest(id=created.id), metadata=metadata)
    assert fetched.customer.owner_id == owner


async def test_a_manager_can_assign_a_customer_to_a_rep_of_their_team(running):
    created, _, team = await _team_customer(running)
    manager = running.token(unique("mgr"), Role.SALES_MANAGER, team)
    new_owner = unique("rep")
    updated = await customers(running).UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=created.id, owner_id=new_owner),
        update_mask=FieldMask(paths=["owner_id"])), metadata=manager)
    assert updated.customer.owner_id == new_owner
    fetched = await customers(running).GetCustomer(
        pb.GetCustomerRequest(id=created.id),
        metadata=running.token(new_owner, Role.SALES_REP, team))
    assert fetched.customer.id == created.id


async def test_a_manager_cannot_move_a_customer_to_another_team(running):
    created, _, team = await _team_customer(running)
    manager = running.token(unique("mgr"), Role.SALES_MANAGER, team)
    await fails(customers(running).UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=created.id, team_id=unique("team")),
        update_mask=FieldMask(paths=["team_id"])), metadata=manager),
        StatusCode.PERMISSION_DENIED)


async def test_a_manager_cannot_leave_a_customer_without_an_owner(running):
    created, owner, team = await _team_customer(running)
    manager = running.token(unique("mgr"), Role.SALES_MANAGER, team)
    failure = await fails(customers(running).UpdateCustomer(pb.UpdateCustomerRequest(
        customer=pb.Customer(id=created.id, owner_id=""),
        update_mask=FieldMask(paths=["owner_id"])), metadata=manager),
        StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"customer.owner_id"}
    fetched = await customers(running).GetCustomer(pb.GetCustomerRequest(id=created.id),
                                                   metadata=manager)
    assert fetched.customer.owner_id == owner
