"""Smoke run of `python -m bench.pdf` at a tiny size: every part is measured and the tables and
both ratios are printed. No timing is asserted: the numbers depend on the machine."""

from __future__ import annotations

import dataclasses
import re
import uuid

import pytest

from bench import pdf
from sales_grpc.config import Settings


async def test_pdf_benchmark_prints_render_times_throughput_and_isolation(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    own = dataclasses.replace(settings, database_name=f"bench_{uuid.uuid4().hex[:8]}")
    args = pdf.parse_args(["--renders", "1", "--duration", "0.6", "--rounds", "1",
                           "--rpc-lines", "2", "--renderers", "2"])
    args.load_before = 0.0
    measured = await pdf.measure(own, args)
    assert [rpc.concurrency for rpc, _ in measured.throughput] == [1, 8]
    assert all(rpc.latencies and local.latencies for rpc, local in measured.throughput)
    assert measured.idle.latencies and measured.beside.latencies
    assert pdf.cpu_of(measured.throughput[0][0], "workers") > 0  # its workers rendered

    pdf.report(measured, args)
    out = capsys.readouterr().out
    assert "PDF benchmark" in out
    assert re.search(r"^\s+20 lines,\s+1 renders\s+\|\s+\d+\.\d \|", out, re.M), out
    assert re.search(r"^\s+200 lines,\s+1 renders\s+\|", out, re.M), out
    for level in (1, 8):
        assert re.search(rf"^\s+{level} \|.*\|.*\|\s+\d+\.\d\d\s+0\.80$", out, re.M), out
    assert re.search(r"^beside 2 renders\s+\|\s+\d+\s+\d+\.\d\d\s+\d+\.\d\d \|", out, re.M), out
    assert re.search(r"^GetCustomer p99 beside renders / alone = \d+\.\d\d", out, re.M), out
    assert re.search(r"^(PASS|BELOW TARGET): lowest throughput ratio \d+\.\d\d", out, re.M), out
