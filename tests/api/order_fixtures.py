"""Builders for the order tests: customers, products with stock, and orders, over the wire."""

from __future__ import annotations

import uuid

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import customer_service_pb2_grpc as cgrpc
from erp.sales.v1 import document_pb2 as dpb
from erp.sales.v1 import money_pb2
from erp.sales.v1 import order_service_pb2 as opb
from erp.sales.v1 import order_service_pb2_grpc as ogrpc
from erp.sales.v1 import product_service_pb2 as ppb
from erp.sales.v1 import product_service_pb2_grpc as pgrpc


def usd(amount: str) -> money_pb2.Money:
    return money_pb2.Money(currency_code="USD", amount=amount)


class Shop:
    """Stubs on one channel plus helpers that create what an order needs."""

    def __init__(self, channel, metadata) -> None:
        self.md = metadata
        self.customers = cgrpc.CustomerServiceStub(channel)
        self.products = pgrpc.ProductServiceStub(channel)
        self.orders = ogrpc.OrderServiceStub(channel)

    async def customer(self, credit_limit: str | None = None) -> cpb.Customer:
        customer = cpb.Customer(first_name="Olga", last_name="Buyer",
                                email=f"o{uuid.uuid4().hex[:8]}@example.com",
                                customer_type=cpb.CUSTOMER_TYPE_INDIVIDUAL)
        if credit_limit is not None:
            customer.credit_limit.CopyFrom(usd(credit_limit))
        response = await self.customers.CreateCustomer(
            cpb.CreateCustomerRequest(customer=customer), metadata=self.md)
        return response.customer

    async def product(self, price: str = "10.00", stock: int = 100, tax_rate: str | None = None,
                      currency: str = "USD") -> ppb.Product:
        product = ppb.Product(sku=f"P-{uuid.uuid4().hex[:10]}", name="Thing",
                              unit_price=money_pb2.Money(currency_code=currency, amount=price))
        if tax_rate is not None:
            product.tax_rate = tax_rate
        created = (await self.products.CreateProduct(
            ppb.CreateProductRequest(product=product), metadata=self.md)).product
        if stock:
            await self.products.AdjustStock(ppb.AdjustStockRequest(
                product_id=created.id, quantity_delta=stock,
                reason=ppb.STOCK_MOVEMENT_REASON_RECEIPT), metadata=self.md)
        return created

    async def stock(self, product_id: str) -> ppb.StockLevel:
        return (await self.products.GetProduct(ppb.GetProductRequest(id=product_id),
                                               metadata=self.md)).product.stock

    async def order(self, customer_id: str, *lines: dpb.DocumentLine, md=None,
                    **fields) -> opb.SalesOrder:
        response = await self.orders.CreateSalesOrder(opb.CreateSalesOrderRequest(
            sales_order=opb.SalesOrder(customer_id=customer_id, lines=list(lines), **fields)),
            metadata=md or self.md)
        return response.sales_order

    async def confirm(self, order_id: str, md=None, **fields) -> opb.SalesOrder:
        return (await self.orders.ConfirmSalesOrder(opb.ConfirmSalesOrderRequest(
            id=order_id, **fields), metadata=md or self.md)).sales_order


def line(product_id: str, quantity: int, **fields) -> dpb.DocumentLine:
    return dpb.DocumentLine(product_id=product_id, quantity=quantity, **fields)
