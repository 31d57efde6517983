"""The server answers over the wire with a real database behind it."""

from erp.sales.v1 import customer_service_pb2 as pb
from erp.sales.v1 import customer_service_pb2_grpc as pb_grpc


async def test_created_customer_can_be_fetched_by_its_id(running, rep):
    stub = pb_grpc.CustomerServiceStub(running.channel)
    created = await stub.CreateCustomer(pb.CreateCustomerRequest(customer=pb.Customer(
        first_name="Ann", last_name="Lee", email="ann@example.com",
        customer_type=pb.CUSTOMER_TYPE_INDIVIDUAL)), metadata=rep)
    fetched = await stub.GetCustomer(pb.GetCustomerRequest(id=created.customer.id), metadata=rep)
    assert fetched.customer.customer_code == created.customer.customer_code
    assert fetched.customer.customer_code.startswith("CUST-")
