"""CustomerService servicer: decode, call the use case, encode."""

from __future__ import annotations

import grpc

from erp.sales.v1 import customer_service_pb2 as pb
from erp.sales.v1 import customer_service_pb2_grpc as pb_grpc

from ..services.customers import CustomerService
from .context import caller
from .converters.customers import customer_out, values_in

Context = grpc.aio.ServicerContext[object, object]


class CustomerServicer(pb_grpc.CustomerServiceServicer):
    def __init__(self, customers: CustomerService) -> None:
        self._customers = customers

    async def CreateCustomer(self, request: pb.CreateCustomerRequest, context: Context
                             ) -> pb.CreateCustomerResponse:
        customer = await self._customers.create(
            caller(), values_in(request.customer, creating=True), request.request_id)
        return pb.CreateCustomerResponse(customer=customer_out(customer))

    async def GetCustomer(self, request: pb.GetCustomerRequest, context: Context
                          ) -> pb.GetCustomerResponse:
        customer = await self._customers.get(caller(), request.id)
        return pb.GetCustomerResponse(customer=customer_out(customer))

    async def ListCustomers(self, request: pb.ListCustomersRequest, context: Context
                            ) -> pb.ListCustomersResponse:
        customers, token = await self._customers.list_page(
            caller(), filter=request.filter, order_by=request.order_by, size=request.page_size,
            token=request.page_token, show_deleted=request.show_deleted)
        return pb.ListCustomersResponse(customers=[customer_out(c) for c in customers],
                                        next_page_token=token)

    async def UpdateCustomer(self, request: pb.UpdateCustomerRequest, context: Context
                             ) -> pb.UpdateCustomerResponse:
        customer = await self._customers.update(
            caller(), request.customer.id, list(request.update_mask.paths),
            values_in(request.customer, creating=False, mask=request.update_mask.paths),
            request.customer.etag)
        return pb.UpdateCustomerResponse(customer=customer_out(customer))

    async def DeleteCustomer(self, request: pb.DeleteCustomerRequest, context: Context
                             ) -> pb.DeleteCustomerResponse:
        customer = await self._customers.delete(caller(), request.id, request.etag)
        return pb.DeleteCustomerResponse(customer=customer_out(customer))

    async def SearchCustomers(self, request: pb.SearchCustomersRequest, context: Context
                              ) -> pb.SearchCustomersResponse:
        customers, token = await self._customers.search(
            caller(), request.query, request.page_size, request.page_token)
        return pb.SearchCustomersResponse(customers=[customer_out(c) for c in customers],
                                          next_page_token=token)
