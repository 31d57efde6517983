"""The composition root: builds clients, repositories and use cases from Settings.

Tests and benchmarks call `build` with their own Settings (pointing at the servers they
started); nothing connects at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio as aioredis

from .api.converters.events import event_payload
from .api.converters.revenue_events import revenue_fact
from .config import Settings
from .documents.renderer import PdfRenderer
from .documents.tables import TableWriters
from .domain.invoices import InvoiceAction, InvoiceState
from .domain.mail import RetryPolicy
from .domain.orders import OrderAction, OrderState
from .domain.quotes import QuoteAction, QuoteState
from .jobs.mail_delivery import MailDelivery
from .jobs.projector import Projector
from .mail.smtp import SmtpOptions, SmtpSender, sender_domain
from .observability import metrics
from .services.analytics import AnalyticsService
from .services.clock import now
from .services.commissions import CommissionService
from .services.customers import CustomerService
from .services.document_files import DocumentFiles, InvoicePdfAttachment, QuotePdfAttachment
from .services.document_views import seller_block
from .services.documents import DocumentWorkflow
from .services.export_tokens import ResumeTokens
from .services.forecasting import Forecaster
from .services.invoice_lifecycle import InvoiceLifecycle
from .services.invoices import InvoiceService
from .services.mail import AttachmentSources, MailSender
from .services.order_lifecycle import OrderLifecycle
from .services.orders import OrderService
from .services.products import ProductService
from .services.quote_lifecycle import QuoteLifecycle
from .services.quotes import QuoteService
from .services.receivables import InvoiceScope, Receivables
from .services.report_exports import ReportExports
from .services.report_plans import ReportPlanner
from .services.report_runs import ReportRuns
from .services.report_templates import TemplateService
from .services.rollup_rebuild import RollupMaintenance
from .store.answer_cache import AnswerCache
from .store.cache import DocumentCache
from .store.commission_facts import CommissionFactsReader
from .store.commission_plans import CommissionPlanRepository
from .store.customers import CustomerRepository, CustomerStats
from .store.exchange_rates import ExchangeRates
from .store.funnel_sources import FunnelSources
from .store.history import HistoryLog
from .store.invoices import InvoiceRepository
from .store.mail_jobs import MailJobStore
from .store.mongo import Idempotency, Mongo
from .store.numbering import NumberCounters
from .store.open_work import OpenWork
from .store.orders import OrderRepository
from .store.outbox import Outbox
from .store.paging import PageTokens
from .store.products import ProductRepository, StockLedger
from .store.projection import ProjectionQueue, ProjectorGate
from .store.quotes import QuoteRepository
from .store.receipts import CreditNoteRepository, PaymentRepository
from .store.report_rows import ReportRows
from .store.report_templates import TemplateRepository
from .store.revenue_sources import RevenueSources
from .store.rollups import RollupStore


@dataclass
class MailParts:
    """Mail about documents: the jobs use cases enqueue (and read the status of), the
    attachment source of each document type (registered by its service's wiring), and the
    delivery worker the server runs."""

    jobs: MailJobStore
    attachments: AttachmentSources
    delivery: MailDelivery


def build_mail(settings: Settings, mongo: Mongo, outbox: Outbox, *,
               sender: MailSender | None = None,
               clock: Callable[[], datetime] = now) -> MailParts:
    """The mail parts over `mongo`; tests pass their own clock (and may pass a sender)."""
    jobs = MailJobStore(mongo, sender_domain(settings.smtp_from))
    attachments = AttachmentSources()
    delivery = MailDelivery(
        jobs, attachments, sender or smtp_sender(settings), mongo, outbox,
        policy=RetryPolicy(settings.mail_max_attempts,
                           timedelta(seconds=settings.mail_retry_seconds)),
        poll_seconds=settings.mail_poll_seconds,
        lease=timedelta(seconds=settings.mail_lease_seconds), clock=clock)
    return MailParts(jobs, attachments, delivery)


def smtp_sender(settings: Settings) -> SmtpSender:
    return SmtpSender(SmtpOptions(
        settings.smtp_server, settings.smtp_port, settings.smtp_username,
        settings.smtp_password, settings.smtp_from, settings.smtp_starttls, settings.smtp_tls,
        settings.smtp_timeout_seconds))


@dataclass
class AnalyticsParts:
    """Revenue analytics: the use cases, the projector every server runs, and the rebuild and
    check `sales-grpc analytics` runs."""

    service: AnalyticsService
    projector: Projector
    maintenance: RollupMaintenance
    forecaster: Forecaster


def build_analytics(settings: Settings, mongo: Mongo, redis: aioredis.Redis) -> AnalyticsParts:
    rollups, sources = RollupStore(mongo), RevenueSources(mongo)
    queue, gate = ProjectionQueue(mongo), ProjectorGate(mongo)
    forecaster = Forecaster()
    answers = AnswerCache(redis, f"{settings.database_name}:analytics",
                          last_commit=lambda: mongo.last_commit)
    return AnalyticsParts(
        AnalyticsService(RollupStore(mongo, settings.read_preference),
                         OpenWork(mongo, settings.read_preference),
                         cohorts=FunnelSources(mongo, settings.read_preference),
                         forecaster=forecaster, answers=answers, rates=ExchangeRates(mongo)),
        Projector(mongo, queue, gate, rollups, sources, revenue_fact,
                  poll_seconds=settings.analytics_poll_seconds, changed=answers.bump),
        RollupMaintenance(gate, queue, rollups, sources, revenue_fact, changed=answers.bump),
        forecaster)


@dataclass
class App:
    settings: Settings
    mongo: Mongo
    redis: aioredis.Redis
    customers: CustomerService
    products: ProductService
    orders: OrderService
    order_lifecycle: OrderLifecycle
    quotes: QuoteService
    quote_lifecycle: QuoteLifecycle
    invoices: InvoiceService
    invoice_lifecycle: InvoiceLifecycle
    receivables: Receivables
    outbox: Outbox
    mail: MailParts
    documents: DocumentFiles
    pdf: PdfRenderer
    analytics: AnalyticsParts
    reports: ReportExports
    report_runs: ReportRuns
    report_templates: TemplateService
    commissions: CommissionService

    async def close(self) -> None:
        await self.analytics.forecaster.close()
        await self.pdf.close()
        await self.redis.aclose()
        await self.mongo.close()


async def build(settings: Settings, mongo_options: dict[str, Any] | None = None) -> App:
    """The app for `settings`; `mongo_options` are extra AsyncMongoClient options (tests pass
    command listeners)."""
    series = settings.number_series()  # a bad format stops the start before connecting
    options = dict(mongo_options or {})
    if settings.metrics_port is not None:  # the database error counters
        options["event_listeners"] = [*options.get("event_listeners", ()),
                                      *metrics.database_listeners()]
    mongo = Mongo(settings.mongodb_url, settings.database_name, **options)
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
    outbox = Outbox(mongo, event_payload, committed=metrics.events_committed)
    mail = build_mail(settings, mongo, outbox)
    customers = CustomerService(customer_records, idempotency, numbers)
    order_workflow = DocumentWorkflow(
        "sales order", "ORDER_NOT_FOUND", mongo, order_records,
        HistoryLog(mongo, tokens, "sales_order", OrderAction, OrderState), outbox)
    orders = OrderService(order_workflow, order_records, product_records, customers,
                          idempotency, settings, numbers)
    pdf = PdfRenderer(settings.pdf_workers)  # its worker processes start on the first render
    stats = CustomerStats(mongo, customer_cache)
    order_lifecycle = OrderLifecycle(order_workflow, order_records, StockLedger(mongo), stats)
    quote_records = QuoteRepository(mongo, tokens)
    quote_workflow = DocumentWorkflow(
        "quote", "QUOTE_NOT_FOUND", mongo, quote_records,
        HistoryLog(mongo, tokens, "quote", QuoteAction, QuoteState), outbox)
    quotes = QuoteService(quote_workflow, quote_records, product_records, customers,
                          idempotency, settings, numbers, mail.jobs)
    invoice_records = InvoiceRepository(mongo, tokens)
    credit_note_records = CreditNoteRepository(mongo, tokens)
    documents = DocumentFiles(orders, quotes, quote_records, customer_records, pdf,
                              seller_block(settings), invoices=invoice_records,
                              credit_notes=credit_note_records)
    mail.attachments.register("quote", QuotePdfAttachment(documents, quote_records))
    mail.attachments.register("invoice", InvoicePdfAttachment(documents, invoice_records))
    invoice_workflow = DocumentWorkflow(
        "invoice", "INVOICE_NOT_FOUND", mongo, invoice_records,
        HistoryLog(mongo, tokens, "invoice", InvoiceAction, InvoiceState), outbox)
    invoices = InvoiceService(invoice_workflow, invoice_records, order_workflow, order_records,
                              product_records, customers, customer_records, idempotency,
                              settings, mail.jobs)
    invoice_lifecycle = InvoiceLifecycle(invoice_workflow, invoice_records, order_records,
                                         stats, customer_records, numbers, mail.jobs)
    receivables = Receivables(invoice_workflow, PaymentRepository(mongo, tokens),
                              credit_note_records, stats, customer_records,
                              idempotency, numbers, InvoiceScope(invoice_workflow,
                                                                 invoice_records))
    report_templates = TemplateService(TemplateRepository(mongo), idempotency)
    commissions = CommissionService(CommissionPlanRepository(mongo, tokens),
                                    CommissionFactsReader(mongo))
    planner = ReportPlanner(ReportRows(mongo), report_templates.resolve,
                            commissions=commissions)
    return App(
        settings=settings,
        mongo=mongo,
        redis=redis,
        customers=customers,
        products=ProductService(product_records, idempotency, settings.default_currency),
        orders=orders,
        order_lifecycle=order_lifecycle,
        quotes=quotes,
        quote_lifecycle=QuoteLifecycle(quote_workflow, quote_records, order_workflow,
                                       order_records, order_lifecycle, numbers,
                                       customer_records, mail.jobs),
        invoices=invoices,
        invoice_lifecycle=invoice_lifecycle,
        receivables=receivables,
        outbox=outbox,
        mail=mail,
        documents=documents,
        pdf=pdf,
        analytics=build_analytics(settings, mongo, redis),
        reports=ReportExports(planner, TableWriters(pdf), ResumeTokens(settings.secret_key)),
        report_runs=ReportRuns(planner),
        report_templates=report_templates,
        commissions=commissions,
    )
