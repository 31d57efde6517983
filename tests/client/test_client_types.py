"""mypy --strict checks what another team writes against the client: the example consumer
and the README's example pass, and a consumer that gets the types wrong fails, so the check
can fail. The client's own modules are checked on the way, under --strict too."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

WRONG = '''
from erp.sales.v1 import customer_service_pb2 as customers
from sales_grpc.client import InvalidArgument, SalesClient


async def wrong(sales: SalesClient) -> None:
    reply = await sales.customers.GetCustomer(customers.CreateCustomerRequest())  # WRONG-1
    count: int = reply.customer.first_name  # WRONG-2
    await sales.orders.GetCustomer(customers.GetCustomerRequest())  # WRONG-3
    SalesClient("127.0.0.1:50051", token=42)  # WRONG-4
    try:
        await sales.customers.DeleteCustomer(customers.DeleteCustomerRequest(id="c1"))
    except InvalidArgument as error:
        print(error.field_violations[0].line)  # WRONG-5
    print(count)
'''


def readme_example() -> str:
    text = README.read_text()
    section = text[text.index("### The typed client for other services"):]
    section = section[:section.index("\n### ", 1)]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "the README's client section has no python example"
    return "\n".join(blocks)


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """One mypy --strict run over the three consumers (mypy is slow to start)."""
    work = tmp_path_factory.mktemp("consumers")
    (work / "readme_example.py").write_text(readme_example())
    (work / "wrong_consumer.py").write_text(WRONG)
    config = work / "mypy.ini"
    # As a consumer sees the installed package: sales_grpc and erp (both with py.typed) on the
    # path, nothing of the project's own mypy settings.
    config.write_text(
        "[mypy]\nstrict = True\npython_version = 3.11\n"
        f"mypy_path = {ROOT}:{ROOT / 'generated'}\n"
        f"cache_dir = {work / '.mypy_cache'}\n"
        # googleapis-common-protos ships .pyi files without a py.typed marker.
        "[mypy-google.rpc.*]\nfollow_untyped_imports = True\n")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--no-error-summary",
         "--show-error-codes", str(ROOT / "examples" / "client_consumer.py"),
         str(work / "readme_example.py"), str(work / "wrong_consumer.py")],
        cwd=work, capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout + done.stderr, work


def test_the_example_consumer_and_the_readme_example_pass_mypy_strict(mypy_report):
    code, out, _ = mypy_report
    assert code == 1, out  # 1: the wrong consumer's errors, nothing worse
    others = [line for line in out.splitlines()
              if line.strip() and "wrong_consumer.py" not in line]
    assert not others, "\n".join(others)


def test_a_consumer_with_wrong_types_fails_mypy_on_each_mistake(mypy_report):
    _, out, _ = mypy_report
    flagged = {int(m) for m in re.findall(r"wrong_consumer\.py:(\d+): error", out)}
    lines = WRONG.splitlines()
    for mark in ("WRONG-1", "WRONG-2", "WRONG-3", "WRONG-4", "WRONG-5"):
        number = next(i for i, line in enumerate(lines, 1) if mark in line)
        assert number in flagged, f"{mark} (line {number}) was not flagged:\n{out}"
