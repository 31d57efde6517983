"""Smoke run of `python -m bench.list_isolation` at a tiny size: both servers are measured and
the table and the ratio line are printed. No timing is asserted."""

from __future__ import annotations

import dataclasses
import re
import uuid

import pytest

from bench import list_isolation
from sales_grpc.config import Settings


async def test_list_isolation_prints_both_limits_and_the_ratio(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    own = dataclasses.replace(settings, database_name=f"bench_{uuid.uuid4().hex[:8]}")
    args = list_isolation.parse_args(["--orders", "3", "--lines", "2", "--slow", "4",
                                      "--cheap", "2", "--duration", "0.5", "--rounds", "1",
                                      "--limit", "1", "--settle", "5"])
    args.load_before = 0.0
    sides = await list_isolation.measure(own, args)
    assert [(s.name, s.limit) for s in sides] == [("off", list_isolation.OFF), ("on", 1)]
    assert all(s.idle[0].latencies and s.loaded[0].latencies for s in sides)
    assert all(s.lists.done for s in sides)  # the slow callers did list

    list_isolation.report(sides, args)
    out = capsys.readouterr().out
    assert "List isolation benchmark" in out
    for label in ("off, idle", "off, lists", "on (1), idle", "on (1), lists"):
        assert re.search(rf"^{re.escape(label)}\s+\|\s+\d+\s+\d+\.\d\d\s+\d+\.\d\d \|", out,
                         re.M), out
    assert re.search(r"^GetProduct p99 while lists run: limit off \d+\.\d ms, on \d+\.\d ms; "
                     r"ratio off/on \d+\.\d$", out, re.M), out
