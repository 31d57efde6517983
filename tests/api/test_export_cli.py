"""`sales-grpc export` against a real server: through a connection that drops halfway it
resumes on its own and writes the checked file; a failed export leaves no file behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from erp.sales.v1 import report_service_pb2 as rpb
from sales_grpc.api.auth import mint_token
from sales_grpc.api.export_client import ExportFailed, export_to_file
from sales_grpc.cli import parser
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role

from .report_fixtures import (
    DroppingProxy,
    Reporting,
    export,
    insert_payments,
    request,
    serve_reporting,
    sha256,
)

ROWS = 2500


@pytest.fixture(scope="module")
async def served(fresh_settings: Callable[..., Settings]) -> AsyncIterator[Reporting]:
    async with serve_reporting(fresh_settings()) as reporting:
        await insert_payments(reporting.app, ROWS, 'a "quoted", multi\nline reference')
        yield reporting


class Recorded:
    def __init__(self) -> None:
        self.headers: list[rpb.ExportHeader] = []
        self.rows: list[int] = []
        self.resumes: list[grpc.StatusCode] = []

    def started(self, header: rpb.ExportHeader) -> None:
        self.headers.append(header)

    def advanced(self, chunk: rpb.ExportChunk) -> None:
        self.rows.append(chunk.rows_done)

    def resuming(self, attempt: int, error: grpc.aio.AioRpcError) -> None:
        self.resumes.append(error.code())


def _jwt(served: Reporting) -> str:
    return mint_token(served.settings, "admin-1", Role.ADMIN, "", None)


async def test_export_resumes_after_a_dropped_connection_and_writes_the_whole_checked_file(
        served: Reporting, tmp_path: Path) -> None:
    uncut = await export(served.reports, request("payments"), served.token("admin-1",
                                                                           Role.ADMIN, ""))
    proxy = DroppingProxy(served.port, cut_after=len(uncut.data) // 2)
    port = await proxy.start()
    progress = Recorded()
    target = tmp_path / "payments.csv"
    try:
        done = await export_to_file(lambda: grpc.aio.insecure_channel(f"127.0.0.1:{port}"),
                                    _jwt(served), request("payments"), target, progress,
                                    backoff=0.05)
    finally:
        await proxy.stop()
    assert progress.resumes == [grpc.StatusCode.UNAVAILABLE] and done.resumes == 1
    assert [h.start_offset > 0 for h in progress.headers] == [False, True]
    assert target.read_bytes() == uncut.data
    assert done.sha256 == sha256(uncut.data) and done.rows == ROWS
    assert progress.rows == sorted(progress.rows) and progress.rows[-1] == ROWS
    assert not (tmp_path / "payments.csv.part").exists()


async def test_a_failed_export_leaves_neither_the_file_nor_a_part(
        served: Reporting, tmp_path: Path) -> None:
    target = tmp_path / "bad.csv"
    with pytest.raises(ExportFailed, match="INVALID_ARGUMENT"):
        await export_to_file(lambda: grpc.aio.insecure_channel(f"127.0.0.1:{served.port}"),
                             _jwt(served), request("payments", filter="nope = 1"), target,
                             Recorded())
    assert not target.exists() and not target.with_name("bad.csv.part").exists()


async def test_the_export_command_writes_the_report_to_the_file_named(
        served: Reporting, tmp_path: Path, capsys: Any) -> None:
    target = tmp_path / "out.jsonl"
    args = parser().parse_args([
        "export", "payments", "--format", "jsonl", "-o", str(target), "--from", "2026-01-01",
        "--address", f"127.0.0.1:{served.port}", "--token", _jwt(served)])
    assert await asyncio.to_thread(args.run, args) == 0
    assert len(target.read_bytes().splitlines()) == ROWS
    assert "SHA-256" in capsys.readouterr().err
