"""Smoke run of `python -m bench.dashboard` with tiny histories: it must load both, measure the
service and the bare reads, and print its table and verdicts. No timing is asserted."""

from __future__ import annotations

import re

import pytest

from bench import dashboard
from sales_grpc.config import Settings


async def test_dashboard_bench_prints_the_table_and_both_verdicts(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    args = dashboard.parse_args(["--sizes", "20,60", "--concurrency", "1", "--requests", "2",
                                 "--duration", "5", "--rounds", "1", "--warmup", "0",
                                 "--time-zone", "UTC"])
    await dashboard.run(args, (settings.mongodb_url, settings.redis_url))
    out = capsys.readouterr().out
    assert "Dashboard benchmark" in out
    assert re.search(r"^loaded 20 orders: \d+ invoices, 200 open quotes, \d+ rollups", out, re.M)
    assert re.search(r"GetSalesDashboard\s+\|\s+bare reads", out)
    for orders in (20, 60):
        assert re.search(rf"^\s+{orders}\s+1 \|.*\|.*\|\s+\d+\.\d\d\s+0\.70$", out, re.M), out
    assert re.search(r"^(PASS|BELOW TARGET): size: GetSalesDashboard at 60 / at 20 orders", out,
                     re.M), out
    assert re.search(r"^(PASS|BELOW TARGET): throughput: lowest ratio GetSalesDashboard / bare "
                     r"reads = \d+\.\d\d", out, re.M), out
