"""OrderService servicer: decode, call the use case, encode."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from erp.sales.v1 import order_service_pb2 as pb
from erp.sales.v1 import order_service_pb2_grpc as pb_grpc

from ..services.document_files import DocumentFiles
from ..services.order_lifecycle import OrderLifecycle
from ..services.orders import OrderService
from .context import caller
from .converters.orders import history_out, order_in, order_out
from .document_files import file_chunks

Context = grpc.aio.ServicerContext[object, object]


class OrderServicer(pb_grpc.OrderServiceServicer):
    def __init__(self, orders: OrderService, lifecycle: OrderLifecycle,
                 files: DocumentFiles) -> None:
        self._orders = orders
        self._lifecycle = lifecycle
        self._files = files

    async def CreateSalesOrder(self, request: pb.CreateSalesOrderRequest, context: Context
                               ) -> pb.CreateSalesOrderResponse:
        order = await self._orders.create(caller(), order_in(request.sales_order),
                                          request.request_id)
        return pb.CreateSalesOrderResponse(sales_order=order_out(order))

    async def GetSalesOrder(self, request: pb.GetSalesOrderRequest, context: Context
                            ) -> pb.GetSalesOrderResponse:
        order = await self._orders.get(caller(), request.id)
        return pb.GetSalesOrderResponse(sales_order=order_out(order))

    async def GetSalesOrderByNumber(self, request: pb.GetSalesOrderByNumberRequest,
                                    context: Context) -> pb.GetSalesOrderByNumberResponse:
        order = await self._orders.get_by_number(caller(), request.number)
        return pb.GetSalesOrderByNumberResponse(sales_order=order_out(order))

    async def ListSalesOrders(self, request: pb.ListSalesOrdersRequest, context: Context
                              ) -> pb.ListSalesOrdersResponse:
        orders, token = await self._orders.list_page(
            caller(), filter=request.filter, order_by=request.order_by, size=request.page_size,
            token=request.page_token)
        return pb.ListSalesOrdersResponse(sales_orders=[order_out(o) for o in orders],
                                          next_page_token=token)

    async def UpdateSalesOrder(self, request: pb.UpdateSalesOrderRequest, context: Context
                               ) -> pb.UpdateSalesOrderResponse:
        order = await self._orders.update(
            caller(), request.sales_order.id, list(request.update_mask.paths),
            order_in(request.sales_order, request.update_mask.paths), request.sales_order.etag)
        return pb.UpdateSalesOrderResponse(sales_order=order_out(order))

    async def ConfirmSalesOrder(self, request: pb.ConfirmSalesOrderRequest, context: Context
                                ) -> pb.ConfirmSalesOrderResponse:
        order = await self._lifecycle.confirm(caller(), request.id, request.etag,
                                           request.override_credit_limit,
                                           request.override_reason)
        return pb.ConfirmSalesOrderResponse(sales_order=order_out(order))

    async def StartProcessing(self, request: pb.StartProcessingRequest, context: Context
                              ) -> pb.StartProcessingResponse:
        order = await self._lifecycle.start_processing(caller(), request.id, request.etag)
        return pb.StartProcessingResponse(sales_order=order_out(order))

    async def ShipSalesOrder(self, request: pb.ShipSalesOrderRequest, context: Context
                             ) -> pb.ShipSalesOrderResponse:
        order = await self._lifecycle.ship(caller(), request.id, request.etag)
        return pb.ShipSalesOrderResponse(sales_order=order_out(order))

    async def DeliverSalesOrder(self, request: pb.DeliverSalesOrderRequest, context: Context
                                ) -> pb.DeliverSalesOrderResponse:
        order = await self._lifecycle.deliver(caller(), request.id, request.etag)
        return pb.DeliverSalesOrderResponse(sales_order=order_out(order))

    async def CancelSalesOrder(self, request: pb.CancelSalesOrderRequest, context: Context
                               ) -> pb.CancelSalesOrderResponse:
        order = await self._lifecycle.cancel(caller(), request.id, request.etag, request.reason)
        return pb.CancelSalesOrderResponse(sales_order=order_out(order))

    async def DuplicateSalesOrder(self, request: pb.DuplicateSalesOrderRequest,
                                  context: Context) -> pb.DuplicateSalesOrderResponse:
        order = await self._orders.duplicate(caller(), request.id, request.request_id)
        return pb.DuplicateSalesOrderResponse(sales_order=order_out(order))

    async def ListSalesOrderHistory(self, request: pb.ListSalesOrderHistoryRequest,
                                    context: Context) -> pb.ListSalesOrderHistoryResponse:
        entries, token = await self._orders.history(caller(), request.id, request.page_size,
                                                    request.page_token)
        return pb.ListSalesOrderHistoryResponse(entries=[history_out(h) for h in entries],
                                                next_page_token=token)

    async def RenderSalesOrderPdf(self, request: pb.RenderSalesOrderPdfRequest, context: Context
                                  ) -> AsyncIterator[pb.RenderSalesOrderPdfResponse]:
        file = await self._files.sales_order_pdf(caller(), request.id)
        for chunk in file_chunks(file):
            yield pb.RenderSalesOrderPdfResponse(chunk=chunk)
