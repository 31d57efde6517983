"""Smoke run of `python -m bench.exports` at a tiny size: every format is exported and checked
against its SHA-256, and the table with both ratios and RSS growth is printed. No timing is
asserted: the numbers depend on the machine."""

from __future__ import annotations

import dataclasses
import re
import uuid

import pytest

from bench import exports
from sales_grpc.config import Settings


async def test_exports_benchmark_prints_rates_ratios_and_rss_growth_per_format(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    own = dataclasses.replace(settings, database_name=f"bench_{uuid.uuid4().hex[:8]}")
    measured = await exports.measure(own, exports.parse_args(["--lines", "1500",
                                                              "--per-order", "7"]))
    assert measured.lines == 1500
    assert measured.baseline_rows == 2 * 1500  # timed before the exports and after them
    assert [r.format for r in measured.runs] == ["csv", "jsonl", "xlsx"]
    assert all(r.rows == 1500 and r.size > 0 for r in measured.runs)

    exports.report(measured)
    out = capsys.readouterr().out
    assert "Export benchmark: 1500 order lines" in out
    for fmt in ("csv", "jsonl", "xlsx"):
        assert re.search(rf"^\s+{fmt} \|\s+\d+ \|\s+\d+\.\d\d \|", out, re.M), out
    assert re.search(r"^(PASS|BELOW TARGET): ratio", out, re.M), out
