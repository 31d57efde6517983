"""Smoke run of `python -m bench.create_confirm` with tiny counts: it must measure both sides
and print its table. No timing is asserted: the numbers depend on the machine."""

from __future__ import annotations

import dataclasses
import re
import uuid

import pytest

from bench import create_confirm
from sales_grpc.config import Settings


@pytest.mark.parametrize("layout", ["process", "inprocess"])
async def test_create_confirm_prints_the_table(settings: Settings, layout: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # A database of its own, so the bench's customers and orders never meet other tests'.
    own = dataclasses.replace(settings, database_name=f"bench_{uuid.uuid4().hex[:8]}")
    args = create_confirm.parse_args(["--orders", "4", "--concurrency", "1,2", "--warmup", "2",
                                      "--duration", "20", "--rounds", "2", "--layout", layout])
    rows = await create_confirm.measure(own, args)
    assert [[r.concurrency for r in row] for row in rows] == [[1, 1], [2, 2]]
    assert all(len(r.latencies) == 4 for row in rows for r in row)

    create_confirm.report(rows, args)
    out = capsys.readouterr().out
    assert "Create+Confirm benchmark" in out
    assert re.search(r"service\s+\|\s+baseline", out)
    assert "ratio  target" in out
    for level in (1, 2):
        assert re.search(rf"^\s+{level} \|.*\|.*\|\s+\d+\.\d\d\s+0\.70$", out, re.M), out
    assert re.search(r"^(PASS|BELOW TARGET): lowest ratio service / baseline = \d+\.\d\d", out,
                     re.M), out
