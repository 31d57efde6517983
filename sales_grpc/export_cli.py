"""`sales-grpc export REPORT ...`: a report from a running server to a file, with a progress
bar of rows and bytes (its ETA from the server's row estimate)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import grpc
from rich.console import Console
from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from erp.sales.v1 import report_service_pb2 as pb

from .api.export_client import FORMATS, ExportFailed, export_to_file
from .client_args import caller_token, server_address


class BarProgress:
    """Two bars on stderr: rows against the estimate (with the ETA), and bytes received."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                             MofNCompleteColumn(), TextColumn("rows"),
                             TextColumn("{task.fields[size]}"), TimeElapsedColumn(),
                             TimeRemainingColumn(), console=console)
        self._task: TaskID | None = None
        self._console = console

    def __enter__(self) -> BarProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def started(self, header: pb.ExportHeader) -> None:
        if self._task is None:
            self._task = self._bar.add_task(header.file_name, size=decimal(0),
                                            total=max(header.estimated_row_count, 1))

    def advanced(self, chunk: pb.ExportChunk) -> None:
        if self._task is not None:
            total = self._bar.tasks[self._task].total or 0
            self._bar.update(self._task, completed=chunk.rows_done,
                             total=max(total, chunk.rows_done), size=decimal(chunk.bytes_done))

    def resuming(self, attempt: int, error: grpc.aio.AioRpcError) -> None:
        self._console.print(f"connection lost ({error.code().name}); resuming "
                            f"(attempt {attempt + 1})")


def cmd_export(args: argparse.Namespace) -> int:
    token = caller_token(args.token)
    if not token:
        print("sales-grpc: no token: pass --token or export TOKEN=$(sales-grpc token "
              "--role admin --sub me)", file=sys.stderr)
        return 2
    address = server_address(args.address)
    request = pb.ExportReportRequest(
        report_id=args.report, format=FORMATS[args.format], filter=args.filter or "",
        start_date=args.start or "", end_date=args.end or "", as_of_date=args.as_of or "",
        byte_order_mark=args.bom)
    target = Path(args.output or f"{args.report}.{args.format}")
    console = Console(stderr=True)
    try:
        with BarProgress(console) as progress:
            done = asyncio.run(export_to_file(
                lambda: grpc.aio.insecure_channel(address), token, request, target, progress,
                deadline=args.timeout))
    except ExportFailed as exc:
        console.print(f"sales-grpc: export of {args.report} failed: {exc}")
        return 1
    console.print(f"wrote {done.path}: {done.rows} rows, {done.size_bytes} bytes, "
                  f"SHA-256 {done.sha256} (checked)"
                  + (f", resumed {done.resumes} time(s)" if done.resumes else ""))
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser("export", help="export a report from a running server to a file")
    export.add_argument("report", help="a report id, e.g. sales_orders, order_lines, invoices, "
                        "payments, customer_aging, or a saved template's id")
    export.add_argument("--format", choices=sorted(FORMATS), default="csv")
    export.add_argument("--filter", default="", help='an AIP-160 filter, e.g. state = CONFIRMED')
    export.add_argument("--from", dest="start", default="", metavar="DATE",
                        help="the first day (ISO, UTC) of the report's date field")
    export.add_argument("--to", dest="end", default="", metavar="DATE",
                        help="the last day (ISO, UTC, inclusive)")
    export.add_argument("--as-of", dest="as_of", default="", metavar="DATE",
                        help="the day receivables are aged to (default: today)")
    export.add_argument("--bom", action="store_true",
                        help="CSV: start with a UTF-8 byte order mark, for Excel")
    export.add_argument("-o", "--output", default=None, metavar="FILE",
                        help="where to write it (default: REPORT.FORMAT); written to "
                        "FILE.part and renamed once its SHA-256 checks out")
    export.add_argument("--address", default=None, metavar="HOST:PORT",
                        help="the server (default: 127.0.0.1:SERVICE_PORT, else 50051)")
    export.add_argument("--token", default=None,
                        help="a bearer token (default: the TOKEN environment variable)")
    export.add_argument("--timeout", type=float, default=None,
                        help="seconds each attempt may take (default: no limit)")
    export.set_defaults(run=cmd_export)
