"""Authentication and permissions: every sales RPC needs a valid token with its permission."""

from __future__ import annotations

import time

import jwt
import pytest
from grpc import StatusCode

from erp.sales.v1 import customer_service_pb2 as pb
from sales_grpc.api.auth import mint_token
from sales_grpc.domain.access import Role

from .helpers import create_customer, customers, fails


def _bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def _claims(**overrides):
    now = int(time.time())
    claims = {"sub": "rep-1", "role": "sales_rep", "team_id": "team-a",
              "permissions": ["sales:read"], "iat": now, "exp": now + 600}
    claims.update(overrides)
    return claims


def _signed(running, **overrides) -> tuple[tuple[str, str], ...]:
    return _bearer(jwt.encode(_claims(**overrides), running.settings.secret_key,
                              algorithm="HS256"))


def _list(running, metadata):
    return customers(running).ListCustomers(pb.ListCustomersRequest(), metadata=metadata)


async def test_a_call_without_a_token_is_unauthenticated(running):
    failure = await fails(_list(running, None), StatusCode.UNAUTHENTICATED)
    assert failure.info.reason == "TOKEN_MISSING"


@pytest.mark.parametrize("header", ["garbage", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz",
                                    "Bearer not.a.jwt", "Bearer a.b"])
async def test_a_malformed_authorization_header_is_unauthenticated(running, header):
    await fails(_list(running, (("authorization", header),)), StatusCode.UNAUTHENTICATED)


async def test_an_expired_token_is_unauthenticated(running):
    token = mint_token(running.settings, "rep-1", Role.SALES_REP, "team-a", ttl_seconds=-60)
    failure = await fails(_list(running, _bearer(token)), StatusCode.UNAUTHENTICATED)
    assert failure.info.reason == "TOKEN_EXPIRED"


async def test_a_token_signed_with_another_secret_is_unauthenticated(running):
    forged = jwt.encode(_claims(role="admin"), "another-secret-that-is-long-enough-0123456789",
                        algorithm="HS256")
    failure = await fails(_list(running, _bearer(forged)), StatusCode.UNAUTHENTICATED)
    assert failure.info.reason == "TOKEN_INVALID"


async def test_an_unsigned_token_is_unauthenticated(running):
    unsigned = jwt.encode(_claims(role="admin"), None, algorithm="none")
    await fails(_list(running, _bearer(unsigned)), StatusCode.UNAUTHENTICATED)


async def test_a_token_without_an_expiry_is_unauthenticated(running):
    claims = _claims()
    del claims["exp"]
    token = jwt.encode(claims, running.settings.secret_key, algorithm="HS256")
    await fails(_list(running, _bearer(token)), StatusCode.UNAUTHENTICATED)


async def test_a_role_outside_the_enum_is_unauthenticated(running):
    for role in ("superuser", "ADMIN", "", None):
        await fails(_list(running, _signed(running, role=role)), StatusCode.UNAUTHENTICATED)


async def test_permissions_that_are_not_a_list_of_strings_are_unauthenticated(running):
    for permissions in ("sales:read", [1, 2], {"sales:read": True}):
        await fails(_list(running, _signed(running, permissions=permissions)),
                    StatusCode.UNAUTHENTICATED)


async def test_an_empty_subject_is_unauthenticated(running):
    await fails(_list(running, _signed(running, sub="")), StatusCode.UNAUTHENTICATED)


async def test_a_valid_hand_signed_token_is_accepted(running):
    reply = await _list(running, _signed(running, sub="auth-probe"))
    assert list(reply.customers) == []


async def test_a_rep_without_sales_delete_cannot_delete_a_customer(running, rep):
    created = await create_customer(running, rep)
    failure = await fails(customers(running).DeleteCustomer(
        pb.DeleteCustomerRequest(id=created.id), metadata=rep), StatusCode.PERMISSION_DENIED)
    assert failure.info.reason == "MISSING_PERMISSION"
    assert failure.info.metadata["permission"] == "sales:delete"
    fetched = await customers(running).GetCustomer(pb.GetCustomerRequest(id=created.id),
                                                   metadata=rep)
    assert not fetched.customer.HasField("delete_time")


async def test_a_read_only_token_cannot_create(running):
    metadata = running.token("reader", Role.SALES_REP, "team-a", ["sales:read"])
    await fails(customers(running).CreateCustomer(pb.CreateCustomerRequest(
        customer=pb.Customer(first_name="A")), metadata=metadata), StatusCode.PERMISSION_DENIED)


async def test_permissions_come_from_the_token_not_the_role(running):
    metadata = running.token("admin-no-perms", Role.ADMIN, "", [])
    await fails(_list(running, metadata), StatusCode.PERMISSION_DENIED)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_a_token_signed_with_another_hmac_algorithm_is_unauthenticated(running):
    token = jwt.encode(_claims(), running.settings.secret_key, algorithm="HS512")
    await fails(_list(running, _bearer(token)), StatusCode.UNAUTHENTICATED)


async def test_a_token_not_yet_valid_is_unauthenticated(running):
    await fails(_list(running, _signed(running, nbf=int(time.time()) + 3600)),
                StatusCode.UNAUTHENTICATED)
