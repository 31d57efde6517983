"""Report exports: rows per second of ExportReport against the bare driver, and the server's
memory while it streams.

    .venv/bin/python -m bench.exports [--lines N] [--per-order K] [--formats csv,jsonl,xlsx]

One embedded SecantusDB, N order lines (K per order) written straight to the database, one
sales server in a child process, this process as the client writing each export to a file.

* baseline: the same documents read with a bare PyMongo cursor in `_id` order and their lines
  written with Python's csv module to a file, in this process.
* export: `order_lines` through ExportReport, in each format, to a file; the trailer's
  SHA-256 is checked against the file.
* the baseline runs before the exports and again after them; its rate is the two runs' rows
  over their seconds, so a neighbour that slows one part of a long run weighs on both sides;
* ratio = export rows/s / baseline rows/s (target >= 0.6 for CSV and JSON Lines), and the
  server's peak RSS growth over its RSS before the export (target < 150 MB), sampled from
  /proc every 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import hashlib
import logging
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import grpc
from bson import Decimal128, ObjectId
from pymongo import AsyncMongoClient

from erp.sales.v1 import report_service_pb2 as rpb
from erp.sales.v1 import report_service_pb2_grpc as rgrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.store.embedded import start_embedded

from .common import start_child

FORMATS = {"csv": rpb.EXPORT_FORMAT_CSV, "jsonl": rpb.EXPORT_FORMAT_JSONL,
           "xlsx": rpb.EXPORT_FORMAT_XLSX}
TARGET_RATIO = 0.6
TARGET_RSS_MB = 150.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.exports")
    p.add_argument("--lines", type=int, default=1_000_000, help="order lines to export")
    p.add_argument("--per-order", type=int, default=10, help="lines per order")
    p.add_argument("--formats", default="csv,jsonl,xlsx", help="comma-separated formats")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="keep SecantusDB's data on disk in this new directory (default: in "
                   "memory; at a million lines an on-disk store is the safer choice)")
    return p.parse_args(argv)


def _order(n: int, lines: int, at: datetime) -> dict[str, object]:
    d = Decimal128
    return {
        "_id": ObjectId(), "number": f"SO-2026-{n:07d}", "customer_id": f"cust-{n % 97}",
        "state": "confirmed", "currency": "USD", "owner_id": f"rep-{n % 5}", "team_id": "team-a",
        "notes": 'bench, "export"', "create_time": at, "confirm_time": at,
        "totals": {k: d("100.00") for k in ("subtotal", "discount_total", "tax_total",
                                            "shipping", "grand_total")},
        "lines": [{"product_id": f"prod-{i}", "sku": f"SKU-{i:04d}",
                   "product_name": f"Widget {i}, größe {i % 7}", "quantity": 1 + i % 9,
                   "unit_price": d("12.50"), "price_given": False, "discount_rate": d("0"),
                   "tax_rate": d("0.2"), "gross": d("12.50"), "discount": d("0.00"),
                   "tax": d("2.50"), "total": d("15.00"), "list_price": d("12.50")}
                  for i in range(lines)]}


async def seed(settings: Settings, lines: int, per_order: int) -> int:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongodb_url)
    orders = client[settings.database_name].sales_orders
    start = datetime(2026, 1, 1, tzinfo=UTC)
    count = 0
    batch: list[dict[str, object]] = []
    for n in range((lines + per_order - 1) // per_order):
        k = min(per_order, lines - n * per_order)
        batch.append(_order(n, k, start + timedelta(minutes=n)))
        count += k
        if len(batch) == 500:
            await orders.insert_many(batch)
            batch = []
    if batch:
        await orders.insert_many(batch)
    await client.close()
    return count


async def baseline(settings: Settings, path: Path) -> tuple[int, float]:
    """The documents read with the bare driver and their lines written with the csv module."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongodb_url,
                                                                   tz_aware=True)
    orders = client[settings.database_name].sales_orders
    rows = 0
    started = time.perf_counter()
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        async with orders.find({}, sort=[("_id", 1)], batch_size=500) as cursor:
            async for o in cursor:
                head = [o["number"], o["state"], o["customer_id"], o["owner_id"], o["team_id"],
                        o["currency"]]
                lines = cast(list[dict[str, Any]], o["lines"])
                for i, x in enumerate(lines, 1):
                    out.writerow([*head, i, x["product_id"], x["sku"], x["product_name"],
                                  x["quantity"], *(str(x[k]) for k in (
                                      "unit_price", "discount_rate", "tax_rate", "gross",
                                      "discount", "tax", "total")), o["create_time"]])
                    rows += 1
    elapsed = time.perf_counter() - started
    await client.close()
    return rows, elapsed


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.asynccontextmanager
async def peak_rss(pid: int) -> AsyncIterator[list[float]]:
    """[baseline MB, peak MB] of `pid` while the block runs."""
    found = [rss_mb(pid), rss_mb(pid)]

    async def sample() -> None:
        while True:
            found[1] = max(found[1], rss_mb(pid))
            await asyncio.sleep(0.02)

    task = asyncio.create_task(sample())
    try:
        yield found
    finally:
        task.cancel()
        found[1] = max(found[1], rss_mb(pid))


@dataclass
class Run:
    format: str
    rows: int
    seconds: float
    size: int
    rss_growth_mb: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


async def export(port: int, token: str, fmt: str, path: Path, pid: int) -> Run:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = rgrpc.ReportServiceStub(channel)
        digest = hashlib.sha256()
        trailer = None
        async with peak_rss(pid) as rss:
            started = time.perf_counter()
            with path.open("wb") as handle:
                async for m in stub.ExportReport(rpb.ExportReportRequest(
                        report_id="order_lines", format=FORMATS[fmt]),  # type: ignore[arg-type]
                        metadata=(("authorization", f"Bearer {token}"),)):
                    if m.HasField("chunk"):
                        handle.write(m.chunk.data)
                        digest.update(m.chunk.data)
                    elif m.HasField("trailer"):
                        trailer = m.trailer
            elapsed = time.perf_counter() - started
    assert trailer is not None and trailer.sha256 == digest.hexdigest(), "checksum mismatch"
    return Run(fmt, trailer.row_count, elapsed, trailer.size_bytes, rss[1] - rss[0])


@dataclass
class Measured:
    lines: int
    baseline_rows: int
    baseline_seconds: float
    runs: list[Run]

    @property
    def baseline_rate(self) -> float:
        return self.baseline_rows / self.baseline_seconds


async def measure(settings: Settings, args: argparse.Namespace) -> Measured:
    # The server first: it builds its indexes on empty collections. Built over a million
    # lines, SecantusDB takes longer than the child's start-up allowance.
    server = await start_child("sales", settings)
    try:
        lines = await seed(settings, args.lines, args.per_order)
        token = mint_token(settings, "bench", Role.ADMIN, "", None)
        with tempfile.TemporaryDirectory() as tmp:
            rows, seconds = await baseline(settings, Path(tmp) / "baseline.csv")
            runs = [await export(server.port, token, fmt, Path(tmp) / f"export.{fmt}",
                                 server.pid) for fmt in args.formats.split(",")]
            again, more = await baseline(settings, Path(tmp) / "baseline.csv")
            print(f"baseline before the exports {rows / seconds:.0f} rows/s, after them "
                  f"{again / more:.0f} rows/s", flush=True)
            rows, seconds = rows + again, seconds + more
    finally:
        await server.stop()
    return Measured(lines, rows, seconds, runs)


def report(m: Measured) -> bool:
    print(f"Export benchmark: {m.lines} order lines")
    print(f"baseline (driver cursor + csv module) | {m.baseline_rate:10.0f} rows/s")
    print(f"{'format':>6} | {'rows/s':>10} | {'ratio':>5} | {'MB':>7} | RSS growth MB")
    ok = True
    for r in m.runs:
        ratio = r.rate / m.baseline_rate
        print(f"{r.format:>6} | {r.rate:10.0f} | {ratio:5.2f} | {r.size / 1e6:7.1f} | "
              f"{r.rss_growth_mb:6.1f}")
        if r.format != "xlsx":
            ok = ok and ratio >= TARGET_RATIO
        ok = ok and r.rss_growth_mb < TARGET_RSS_MB
    print(f"{'PASS' if ok else 'BELOW TARGET'}: ratio >= {TARGET_RATIO} (csv, jsonl), "
          f"RSS growth < {TARGET_RSS_MB:.0f} MB")
    return ok


async def run(args: argparse.Namespace) -> bool:
    embedded = await asyncio.to_thread(start_embedded, args.data_dir)
    try:
        settings = Settings.from_env(
            mongodb_url=embedded.mongodb_url, redis_url=embedded.redis_url,
            database_name=f"bench_{uuid.uuid4().hex[:8]}",
            secret_key=f"bench-{uuid.uuid4().hex}", log_level="WARNING")
        measured = await measure(settings, args)
    finally:
        embedded.stop()
    return report(measured)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    ok = asyncio.run(run(parse_args(sys.argv[1:] if argv is None else argv)))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
