"""The composition root: builds clients, repositories and use cases from Settings.

Tests and benchmarks call `build` with their own Settings (pointing at the servers they
started); nothing connects at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from .api.converters.events import event_payload
from .config import Settings
from .documents.renderer import PdfRenderer
from .domain.orders import OrderAction, OrderState
from .services.customers import CustomerService
from .services.document_files import DocumentFiles
from .services.document_views import seller_block
from .services.documents import DocumentWorkflow
from .services.order_lifecycle import OrderLifecycle
from .services.orders import OrderService
from .services.products import ProductService
from .store.cache import DocumentCache
from .store.customers import CustomerRepository, CustomerStats
from .store.history import HistoryLog
from .store.mongo import Idempotency, Mongo
from .store.numbering import NumberCounters
from .store.orders import OrderRepository
from .store.outbox import Outbox
from .store.paging import PageTokens
from .store.products import ProductRepository, StockLedger


@dataclass
class App:
    settings: Settings
    mongo: Mongo
    redis: aioredis.Redis
    customers: CustomerService
    products: ProductService
    orders: OrderService
    order_lifecycle: OrderLifecycle
    outbox: Outbox
    documents: DocumentFiles
    pdf: PdfRenderer

    async def close(self) -> None:
        await self.pdf.close()
        await self.redis.aclose()
        await self.mongo.close()


async def build(settings: Settings, mongo_options: dict[str, Any] | None = None) -> App:
    """The app for `settings`; `mongo_options` are extra AsyncMongoClient options (tests pass
    command listeners)."""
    series = settings.number_series()  # a bad format stops the start before connecting
    mongo = Mongo(settings.mongodb_url, settings.database_name, **(mongo_options or {}))
    await mongo.ensure_indexes()
    tokens = PageTokens(settings.secret_key, settings.list_page_bytes)
    idempotency = Idempotency(mongo)
    # Short timeouts: Redis is a cache and an event pipe here, so a hung Redis must cost a
    # cache miss (or a relay retry), never a hung call.
    redis = aioredis.from_url(settings.redis_url, socket_timeout=settings.redis_timeout_seconds,
                              socket_connect_timeout=settings.redis_timeout_seconds)
    customer_cache = DocumentCache(redis, f"{settings.database_name}:customer")
    customer_records = CustomerRepository(mongo, tokens, customer_cache)
    product_records = ProductRepository(mongo, tokens)
    order_records = OrderRepository(mongo, tokens)
    numbers = NumberCounters(mongo, series)
    # Events are serialized to their protobuf messages as they are written: the contract's
    # converter is the one place that knows the messages.
    outbox = Outbox(mongo, event_payload)
    customers = CustomerService(customer_records, idempotency, numbers)
    order_workflow = DocumentWorkflow(
        "sales order", "ORDER_NOT_FOUND", mongo, order_records,
        HistoryLog(mongo, tokens, "sales_order", OrderAction, OrderState), outbox)
    orders = OrderService(order_workflow, order_records, product_records, customers,
                          idempotency, settings, numbers)
    pdf = PdfRenderer(settings.pdf_workers)  # its worker processes start on the first render
    return App(
        settings=settings,
        mongo=mongo,
        redis=redis,
        customers=customers,
        products=ProductService(product_records, idempotency),
        orders=orders,
        order_lifecycle=OrderLifecycle(order_workflow, order_records, StockLedger(mongo),
                                       CustomerStats(mongo, customer_cache)),
        outbox=outbox,
        documents=DocumentFiles(orders, customer_records, pdf, seller_block(settings)),
        pdf=pdf,
    )
