"""The README's grpcurl walkthrough, run as written against a fresh `sales-grpc dev`: the
customer, product and whole order story keep working as documented."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .test_grpcurl import BIN, ENV, DevServer, _start_dev, _stop

pytestmark = pytest.mark.e2e
README = Path(__file__).resolve().parents[2] / "README.md"


def walkthrough(port: int) -> str:
    """The README's bash blocks from "Try it with grpcurl" up to "Commands", minus the
    serve command (the test starts the server), pointed at the test server's port."""
    text = README.read_text()
    part = text[text.index("## Try it with grpcurl"):text.index("## Commands")]
    blocks = [b for b in re.findall(r"```bash\n(.*?)```", part, re.S)
              if "./scripts/serve" not in b and "activate" not in b]
    return "\n".join(blocks).replace("127.0.0.1:50051", f"127.0.0.1:{port}")


@pytest.fixture(scope="module")
def fresh_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    server = _start_dev(tmp_path_factory.mktemp("readme") / "data")
    yield server
    _stop(server)


def test_the_readme_walkthrough_runs_as_written(fresh_dev):
    port = int(fresh_dev.address.rsplit(":", 1)[1])
    env = {**ENV, "PATH": f"{BIN}{os.pathsep}{ENV.get('PATH', '')}"}
    done = subprocess.run(["bash", "-c", walkthrough(port)], capture_output=True, text=True,
                          env=env, timeout=300)
    out = done.stdout + done.stderr
    assert "Traceback" not in out, out[-3000:]
    # The documented results, in the order the README gives them.
    assert '"number": "SO-2026-000001"' in out
    assert '"grand_total": {\n        "currency_code": "USD",\n        "amount": "70.53"' in out
    assert '"reserved": "3"' in out and '"available": "5"' in out
    assert out.count('"action": "') >= 5  # created, confirmed, processing, shipped, delivered
    assert "not enough stock to confirm SO-2026-000002: TOOL-WRN-10 short by 1" in out
    assert "SALES_ORDER_STATE_CANCELLED" in out
    assert '"order_count": "1"' in out
    assert "Code: Unauthenticated" in out
    assert "QUOTE_STATE_ACCEPTED" in out and '"quote_id": "' in out
    assert "DELIVERY_STATE_" in out and "wrote /tmp/quote.pdf" in out
    assert out.count("SALES_ORDER_STATE_CONFIRMED") >= 1
    # Invoices: the delivered order billed, paid in part, credited, paid; the aging.
    assert '"number": "INV-2026-000001"' in out and "INVOICE_STATE_OPEN" in out
    assert "exceeds the amount due 40.53 USD on INV-2026-000001" in out
    assert "CN-2026-000001 30.00" in out
    assert "INVOICE_STATE_PAID" in out and '"partially_paid": true' in out
    assert re.search(r'"days_1_30": \{\s*"currency_code": "USD",\s*"amount": "40.42"', out)
    assert "wrote /tmp/invoice.pdf" in out and "wrote /tmp/credit-note.pdf" in out
