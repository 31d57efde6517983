"""RenderSalesOrderPdf over the wire: a header, then chunks of at most 64 KiB that add up to a
PDF of the order; outside the caller's scope the order is NOT_FOUND. And `sales-grpc pdf`."""

from __future__ import annotations

import asyncio
import io
import os
import random
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pypdf
import pytest
from PIL import Image

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import order_service_pb2 as opb
from sales_grpc.api.auth import mint_token
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.domain.access import Role

from .helpers import fails
from .order_fixtures import Shop, line

CHUNK = 64 * 1024


class PdfShop(Shop):
    def __init__(self, channel: grpc.aio.Channel, settings: Any, subject: str) -> None:
        super().__init__(channel, md(settings, subject))
        self.channel, self.settings = channel, settings


@pytest.fixture(scope="module")
async def pdf_server(fresh_settings, tmp_path_factory) -> AsyncIterator[tuple[Any, Any]]:
    """A server with a company block and a noisy logo, so a PDF spans several chunks."""
    logo = tmp_path_factory.mktemp("logo") / "logo.png"
    Image.frombytes("RGB", (200, 100), random.Random(7).randbytes(200 * 100 * 3)).save(logo)
    settings = fresh_settings(company_name="Ñandú Trading Ltd.",
                              company_address="1 Harbour Road\\nBristol BS1 4DJ",
                              company_tax_id="GB123456789", company_logo_path=str(logo),
                              pdf_workers=1)
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    yield (channel, port), settings
    await channel.close()
    await server.stop(1)
    await app.close()


def md(settings, subject: str, role: Role = Role.SALES_REP) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {mint_token(settings, subject, role, 'team-a')}"),)


async def _order(shop: PdfShop, lines: int) -> opb.SalesOrder:
    """A draft of `lines` lines for a Unicode-named customer, owned by `shop`'s rep."""
    catalog = Shop(shop.channel, md(shop.settings, "manager-pdf", Role.SALES_MANAGER))
    customer = (await shop.customers.CreateCustomer(cpb.CreateCustomerRequest(
        customer=cpb.Customer(first_name="Zoë", last_name="Ørsted", email="zoe@example.com",
                              company_name="Müller-Łukasz GmbH",
                              customer_type=cpb.CUSTOMER_TYPE_BUSINESS)),
        metadata=shop.md)).customer
    product = await catalog.product(price="19.99", stock=0)
    return await shop.order(customer.id, *[line(product.id, n + 1) for n in range(lines)],
                            notes="Σταδίου 10, Москва")


async def _stream(shop: Shop, order_id: str, metadata) -> list[opb.RenderSalesOrderPdfResponse]:
    call = shop.orders.RenderSalesOrderPdf(opb.RenderSalesOrderPdfRequest(id=order_id),
                                           metadata=metadata)
    return [message async for message in call]


async def test_an_order_pdf_streams_a_header_then_chunks_that_add_up_to_the_pdf(pdf_server):
    (channel, _), settings = pdf_server
    shop = PdfShop(channel, settings, "rep-pdf")
    order = await _order(shop, lines=200)
    messages = await _stream(shop, order.id, shop.md)

    header = messages[0].chunk.header
    assert messages[0].chunk.WhichOneof("kind") == "header"
    assert (header.content_type, header.file_name) == ("application/pdf", f"{order.number}.pdf")
    chunks = [m.chunk for m in messages[1:]]
    assert all(c.WhichOneof("kind") == "data" and 0 < len(c.data) <= CHUNK for c in chunks)
    assert len(chunks) >= 2
    data = b"".join(c.data for c in chunks)
    assert len(data) == header.size_bytes

    reader = pypdf.PdfReader(io.BytesIO(data))
    texts = [page.extract_text() for page in reader.pages]
    assert len(reader.pages) >= 5
    first = texts[0]
    for expected in ("Ñandú Trading Ltd.", "1 Harbour Road", "Müller-Łukasz GmbH",
                     "Attn: Zoë Ørsted", "Draft order", order.number):
        assert expected in first, expected
    assert f"Page 2 of {len(texts)}" in texts[1]
    assert f"USD {Decimal(order.totals.grand_total.amount):,.2f}" in texts[-1]
    assert "Σταδίου 10, Москва" in texts[-1]


async def test_the_same_order_version_streams_the_same_bytes_twice(pdf_server):
    (channel, _), settings = pdf_server
    shop = PdfShop(channel, settings, "rep-pdf")
    order = await _order(shop, lines=2)
    first, second = await asyncio.gather(_stream(shop, order.id, shop.md),
                                         _stream(shop, order.id, shop.md))
    assert b"".join(m.chunk.data for m in first) == b"".join(m.chunk.data for m in second)


async def test_another_reps_order_pdf_is_not_found(pdf_server):
    (channel, _), settings = pdf_server
    shop = PdfShop(channel, settings, "rep-pdf")
    order = await _order(shop, lines=1)
    await fails(_stream(shop, order.id, md(settings, "rep-other")), grpc.StatusCode.NOT_FOUND)
    assert len(await _stream(shop, order.id, md(settings, "boss", Role.ADMIN))) >= 2
    await fails(_stream(shop, "0" * 24, shop.md), grpc.StatusCode.NOT_FOUND)
    await fails(_stream(shop, "not-an-id", shop.md), grpc.StatusCode.INVALID_ARGUMENT)


async def test_the_cli_writes_the_pdf_a_person_asked_for(pdf_server, tmp_path: Path):
    (channel, port), settings = pdf_server
    shop = PdfShop(channel, settings, "rep-pdf")
    order = await _order(shop, lines=3)
    target = tmp_path / "order.pdf"
    token = mint_token(settings, "rep-pdf", Role.SALES_REP, "team-a")
    cli = [sys.executable, "-c", "from sales_grpc.cli import main; main()", "pdf", "order"]
    env = {**os.environ, "TOKEN": token, "SERVICE_PORT": str(port)}
    done = await asyncio.create_subprocess_exec(
        *cli, order.id, "-o", str(target), env=env, stderr=asyncio.subprocess.PIPE)
    _, err = await done.communicate()
    assert done.returncode == 0, err.decode()
    assert f"wrote {target}" in err.decode()
    assert order.number in pypdf.PdfReader(target).pages[0].extract_text()

    other = mint_token(settings, "rep-other", Role.SALES_REP, "team-a")
    refused = await asyncio.create_subprocess_exec(
        *cli, order.id, "--token", other, "-o", str(tmp_path / "no.pdf"), env=env,
        stderr=asyncio.subprocess.PIPE)
    _, err = await refused.communicate()
    assert refused.returncode == 1 and "NOT_FOUND" in err.decode()
    assert not (tmp_path / "no.pdf").exists()
