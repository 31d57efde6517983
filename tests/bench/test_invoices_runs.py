"""Smoke run of `python -m bench.invoices` with tiny counts: it must set up its drafts, measure
both sides and print its table. No timing is asserted: the numbers depend on the machine."""

from __future__ import annotations

import dataclasses
import re
import uuid

import pytest

from bench import invoices
from sales_grpc.config import Settings


@pytest.mark.parametrize("layout", ["process", "inprocess"])
async def test_invoices_bench_prints_the_table(settings: Settings, layout: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # A database of its own: the bench's counter and invoices never meet other tests'.
    own = dataclasses.replace(settings, database_name=f"bench_{uuid.uuid4().hex[:8]}")
    args = invoices.parse_args(["--units", "4", "--concurrency", "1,2", "--warmup", "2",
                                "--duration", "20", "--rounds", "2", "--layout", layout])
    rows = await invoices.measure(own, args)
    assert [[r.concurrency for r in row] for row in rows] == [[1, 1], [2, 2]]
    assert all(len(r.latencies) == 4 for row in rows for r in row)
    err = capsys.readouterr().err
    assert re.search(r"gapless: (\d+) numbers drawn, \1 numbered invoices", err), err

    invoices.report(rows, args)
    out = capsys.readouterr().out
    assert "Finalize+Pay benchmark" in out
    assert "baseline = the same MongoDB operations through AsyncMongoClient" in out
    assert re.search(r"service\s+\|\s+baseline", out)
    assert "ratio  target" in out
    for level in (1, 2):
        assert re.search(rf"^\s+{level} \|.*\|.*\|\s+\d+\.\d\d\s+0\.70$", out, re.M), out
    assert re.search(r"^(PASS|BELOW TARGET): lowest ratio service / baseline = \d+\.\d\d", out,
                     re.M), out
