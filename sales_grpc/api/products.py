"""ProductService servicer: decode, call the use case, encode."""

from __future__ import annotations

from decimal import Decimal

import grpc

from erp.sales.v1 import product_service_pb2 as pb
from erp.sales.v1 import product_service_pb2_grpc as pb_grpc

from ..domain.errors import Violations
from ..domain.products import Product
from ..services.products import ProductService
from .context import caller
from .converters.products import movement_out, product_out, reason_in, values_in

Context = grpc.aio.ServicerContext[object, object]


class ProductServicer(pb_grpc.ProductServiceServicer):
    def __init__(self, products: ProductService, default_tax_rate: Decimal) -> None:
        self._products = products
        self._tax = default_tax_rate

    def _out(self, product: Product) -> pb.Product:
        return product_out(product, self._tax)

    async def CreateProduct(self, request: pb.CreateProductRequest, context: Context
                            ) -> pb.CreateProductResponse:
        product = await self._products.create(caller(), values_in(request.product),
                                              request.request_id)
        return pb.CreateProductResponse(product=self._out(product))

    async def GetProduct(self, request: pb.GetProductRequest, context: Context
                         ) -> pb.GetProductResponse:
        return pb.GetProductResponse(product=self._out(await self._products.get(request.id)))

    async def GetProductBySku(self, request: pb.GetProductBySkuRequest, context: Context
                              ) -> pb.GetProductBySkuResponse:
        product = await self._products.get_by_sku(request.sku)
        return pb.GetProductBySkuResponse(product=self._out(product))

    async def ListProducts(self, request: pb.ListProductsRequest, context: Context
                           ) -> pb.ListProductsResponse:
        products, token = await self._products.list_page(
            filter=request.filter, order_by=request.order_by, size=request.page_size,
            token=request.page_token, show_deleted=request.show_deleted)
        return pb.ListProductsResponse(products=[self._out(p) for p in products],
                                       next_page_token=token)

    async def UpdateProduct(self, request: pb.UpdateProductRequest, context: Context
                            ) -> pb.UpdateProductResponse:
        product = await self._products.update(
            caller(), request.product.id, list(request.update_mask.paths),
            values_in(request.product, request.update_mask.paths), request.product.etag)
        return pb.UpdateProductResponse(product=self._out(product))

    async def DeleteProduct(self, request: pb.DeleteProductRequest, context: Context
                            ) -> pb.DeleteProductResponse:
        product = await self._products.delete(caller(), request.id, request.etag)
        return pb.DeleteProductResponse(product=self._out(product))

    async def ListCategories(self, request: pb.ListCategoriesRequest, context: Context
                             ) -> pb.ListCategoriesResponse:
        rows, token = await self._products.categories(request.page_size, request.page_token)
        return pb.ListCategoriesResponse(categories=[
            pb.CategorySummary(category=name, product_count=count, active_product_count=active)
            for name, count, active in rows], next_page_token=token)

    async def AdjustStock(self, request: pb.AdjustStockRequest, context: Context
                          ) -> pb.AdjustStockResponse:
        v = Violations()
        reason = reason_in(v, request.reason)
        v.raise_if_any()
        product, movement = await self._products.adjust_stock(
            caller(), request.product_id, request.quantity_delta, reason, request.note,
            request.request_id)
        return pb.AdjustStockResponse(product=self._out(product), movement=movement_out(movement))

    async def ListStockMovements(self, request: pb.ListStockMovementsRequest, context: Context
                                 ) -> pb.ListStockMovementsResponse:
        movements, token = await self._products.list_movements(
            request.product_id, request.page_size, request.page_token)
        return pb.ListStockMovementsResponse(movements=[movement_out(m) for m in movements],
                                             next_page_token=token)

    async def ListLowStockProducts(self, request: pb.ListLowStockProductsRequest,
                                   context: Context) -> pb.ListLowStockProductsResponse:
        products, token = await self._products.list_low_stock(request.page_size,
                                                              request.page_token)
        return pb.ListLowStockProductsResponse(products=[self._out(p) for p in products],
                                               next_page_token=token)
