"""Another service's view: examples/client_consumer.py runs in a separate Python process
against a real server, importing `sales_grpc.client` with every server-only package refused
(tests/client/without_server.py), so the client provably needs none of them."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from sales_grpc.api.auth import mint_token
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role

from .installs import server_only_modules

ROOT = Path(__file__).resolve().parents[2]
CONSUMER = ROOT / "examples" / "client_consumer.py"
RUNNER = Path(__file__).with_name("without_server.py")


@pytest.fixture(scope="module")
async def served(fresh_settings: Callable[..., Settings]) -> AsyncIterator[tuple[str, str]]:
    """A server of its own on port 0: its address and a sales rep's token."""
    settings = fresh_settings()
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    yield f"127.0.0.1:{port}", mint_token(settings, "rep-1", Role.SALES_REP, "team-a")
    await server.stop(1)
    await app.close()


async def run_without_server(*args: str, env: dict[str, str] | None = None,
                             ours: bool = True) -> tuple[int, str, str]:
    config = json.dumps({"blocked": server_only_modules(), "ours": ours})
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(RUNNER), config, *args, cwd=ROOT / "examples",
        env={**os.environ, "PYTHONPATH": "", **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def test_the_refused_modules_are_the_servers_dependencies():
    blocked = set(server_only_modules())
    assert {"pymongo", "bson", "redis", "jwt", "fpdf", "statsmodels", "numpy", "aiosmtplib",
            "xlsxwriter", "rich", "grpc_health", "grpc_reflection"} <= blocked
    assert not blocked & {"grpc", "google", "grpc_status", "erp", "sales_grpc"}


async def test_the_consumer_example_runs_in_its_own_process_with_the_client_alone(served):
    target, token = served
    code, out, err = await run_without_server(
        str(CONSUMER), env={"SALES_GRPC_TARGET": target, "SALES_GRPC_TOKEN": token})
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0].startswith("created ") and " CUST-" in lines[0]
    assert "same request_id, same customer: True" in lines
    assert "got Grace Hopper" in lines
    assert any(line.startswith("invalid: ") for line in lines)
    violations = {line.split(":")[0].removeprefix("violation ")
                  for line in lines if line.startswith("violation ")}
    assert {"customer.first_name", "customer.email"} <= violations
    assert any(line.startswith("not found: CUSTOMER_NOT_FOUND request id ") for line in lines)
    assert "tokens fetched: 1" in lines
    # Nothing of the server was imported, nor even tried by the client or the consumer.
    assert "\nloaded server modules: \n" in f"\n{err}\n"
    refused = err.split("refused: ", 1)[1].splitlines()[0].split(", ")
    importers = {entry.partition("<")[2] for entry in refused if entry}
    assert not {i for i in importers if i == "__main__" or i.startswith("sales_grpc")}, refused


async def test_the_sales_grpc_command_without_the_server_says_how_to_install_it():
    code, out, err = await run_without_server("-m", "sales_grpc.entry", "--help", ours=False)
    assert code == 2, out + err
    assert "pip install 'sales-grpc[server]'" in err
    assert "Traceback" not in err
