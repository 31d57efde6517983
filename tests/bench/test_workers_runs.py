"""Smoke run of `python -m bench.workers` with tiny counts: both servers (`serve --workers 1`
and `--workers 2`) start, both benches are measured on each, and the tables are printed. No
timing is asserted: the numbers depend on the machine."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from sales_grpc.workers import reuse_port_supported

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not reuse_port_supported(), reason="--workers needs Linux SO_REUSEPORT")
def test_workers_benchmark_prints_both_tables_with_a_ratio_per_concurrency():
    done = subprocess.run(
        [sys.executable, "-m", "bench.workers", "--concurrency", "1,2", "--duration", "1",
         "--requests", "20", "--orders", "4", "--warmup", "2", "--rounds", "2",
         "--customers", "4", "--connections", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"^Workers benchmark, .* load average [\d.]+ before, [\d.]+ after", out,
                     re.M), out
    assert re.search(r"^4 client connections per server; connections each worker holds: "
                     r"1 worker: 4; 2 workers: \d/\d$", out, re.M), out
    assert "NOTE: the load generator, SecantusDB and Redis share" in out
    for bench in ("GetCustomer", "Create+Confirm"):
        table = out.split(f"\n{bench} (", 1)[1].split("\n\n", 1)[0]
        assert "1 worker" in table and "2 workers" in table and "2w/1w" in table
        rows = re.findall(r"^\s+([12]) \|.*\|.*\|\s+\d+\.\d\d \|\s+\d+ / \d+$", table, re.M)
        assert rows == ["1", "2"], table
    assert re.search(r"^best ratio 2 workers / 1 worker: GetCustomer \d+\.\d\d, "
                     r"Create\+Confirm \d+\.\d\d$", out, re.M), out
