"""The GetCustomer benchmark runs end to end and prints its table (no timings asserted)."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_get_customer_benchmark_prints_a_row_per_concurrency_and_a_verdict():
    done = subprocess.run(
        [sys.executable, "-m", "bench.get_customer", "--requests", "20", "--duration", "2",
         "--concurrency", "1,3", "--customers", "4", "--warmup", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(re.match(r"conc \|\s+req/s p50 ms\s+p99 ms \|", line) for line in lines)
    rows = [line for line in lines if re.match(r"\s+[13] \|\s+\d+\s+\d+\.\d\d", line)]
    assert [int(row.split("|")[0]) for row in rows] == [1, 3]
    assert all(row.rstrip().endswith("0.80") for row in rows), rows
    assert re.match(r"(PASS|BELOW TARGET): lowest ratio", lines[-1])
