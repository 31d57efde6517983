"""Another service calling the sales service through `sales_grpc.client`, and nothing else
of this project: `pip install sales-grpc` is all it needs.

    SALES_GRPC_TARGET=127.0.0.1:50051 SALES_GRPC_TOKEN="$(sales-grpc token --role sales_rep \\
        --sub rep-1 --team team-a)" python examples/client_consumer.py

It creates a customer with an idempotency key (twice, to show the second call returns the
first one's customer), reads it back, and sends an invalid customer to show the field
violations the server answers with. The tests run it in a separate process against a real
server, with the server's packages made unimportable, and check it with `mypy --strict`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid

from erp.sales.v1 import customer_service_pb2 as customers
from sales_grpc.client import InvalidArgument, NotFound, SalesClient


class Tokens:
    """A token provider: hands out the current token and fetches a new one shortly before it
    expires. Here it reads the environment; a real service asks its Auth service."""

    def __init__(self, lifetime: float = 300.0) -> None:
        self.lifetime = lifetime
        self.token = ""
        self.expires = 0.0
        self.fetched = 0

    async def current(self) -> str:
        if time.monotonic() > self.expires - 30:
            self.token = os.environ["SALES_GRPC_TOKEN"]
            self.expires = time.monotonic() + self.lifetime
            self.fetched += 1
        return self.token


async def main(target: str) -> int:
    tokens = Tokens()
    async with SalesClient(target, token=tokens.current, tls=False, deadline=5.0,
                           deadlines={"SearchCustomers": 2.0}) as sales:
        request = customers.CreateCustomerRequest(
            customer=customers.Customer(
                first_name="Grace", last_name="Hopper", email="grace@example.com",
                customer_type=customers.CUSTOMER_TYPE_INDIVIDUAL),
            request_id=str(uuid.uuid4()))
        created = (await sales.customers.CreateCustomer(request)).customer
        print(f"created {created.id} {created.customer_code}")
        again = (await sales.customers.CreateCustomer(request)).customer
        print(f"same request_id, same customer: {again.id == created.id}")

        fetched = await sales.customers.GetCustomer(customers.GetCustomerRequest(id=created.id))
        print(f"got {fetched.customer.first_name} {fetched.customer.last_name}")

        try:
            await sales.customers.CreateCustomer(customers.CreateCustomerRequest(
                customer=customers.Customer(
                    first_name="", last_name="Hopper", email="not an address",
                    customer_type=customers.CUSTOMER_TYPE_INDIVIDUAL)))
        except InvalidArgument as error:
            print(f"invalid: {error.reason} ({len(error.field_violations)} violations)")
            for violation in error.field_violations:
                print(f"violation {violation.field}: {violation.description}")

        try:
            await sales.customers.GetCustomer(customers.GetCustomerRequest(id="0" * 24),
                                              timeout=3.0)
        except NotFound as error:
            print(f"not found: {error.reason} request id {error.request_id}")
    print(f"tokens fetched: {tokens.fetched}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(os.environ.get("SALES_GRPC_TARGET", "127.0.0.1:50051"))))
