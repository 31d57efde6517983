"""A real `sales-grpc dev` process driven by the grpcurl binary, through reflection only."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sales_grpc.store.embedded import free_port

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
# Service settings from the developer's shell must not leak in: the point is that `dev` and
# `token` agree with no configuration at all.
_SERVICE_VARS = {"SECRET_KEY", "ALGORITHM", "JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE",
                 "ENVIRONMENT", "MONGODB_URL", "REDIS_URL", "DATABASE_NAME", "SERVICE_HOST",
                 "SERVICE_PORT", "LOG_LEVEL"}
ENV = {k: v for k, v in os.environ.items() if k not in _SERVICE_VARS}


def _tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{path} is missing; install the project with pip install -e '.[dev]'"
    return str(path)


@dataclass
class DevServer:
    process: subprocess.Popen[bytes]
    address: str
    banner: str
    stderr: Path

    def children(self) -> list[int]:
        """The child processes (SecantusDB, Redis), read from /proc where there is one."""
        found = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in found.read_text().split()] if found.exists() else []

    def ports(self) -> list[int]:
        return [int(p) for p in re.findall(r"(?:mongodb|redis)://127\.0\.0\.1:(\d+)",
                                           self.banner)]


def _start_dev(data_dir: Path) -> DevServer:
    out, err = data_dir.parent / "dev.out", data_dir.parent / "dev.err"
    port = free_port()
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        process = subprocess.Popen(
            [_tool("sales-grpc"), "dev", "--port", str(port), "--data-dir", str(data_dir)],
            stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=ENV)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        text = out.read_text()
        found = re.search(r"serving on (\S+)", text)
        if found and "Stop with Ctrl-C" in text:
            assert found.group(1) == f"127.0.0.1:{port}"
            return DevServer(process, found.group(1), text, err)
        if process.poll() is not None:
            pytest.fail(f"sales-grpc dev exited with {process.returncode}:\n{err.read_text()}")
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"sales-grpc dev did not print its address in time:\n{err.read_text()}")


def _stop(dev: DevServer) -> None:
    if dev.process.poll() is None:
        dev.process.send_signal(signal.SIGTERM)
        try:
            dev.process.wait(30)
        except subprocess.TimeoutExpired:
            dev.process.kill()
            dev.process.wait()


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    server = _start_dev(tmp_path_factory.mktemp("dev") / "data")
    yield server
    _stop(server)


@pytest.fixture(scope="module")
def token() -> str:
    done = subprocess.run([_tool("sales-grpc"), "token", "--role", "admin", "--sub", "e2e-admin"],
                          capture_output=True, text=True, env=ENV, check=True)
    return done.stdout.strip()


def grpcurl(dev: DevServer, *args: str, token: str = "", data: object = None
            ) -> subprocess.CompletedProcess[str]:
    argv = [_tool("grpcurl"), "-plaintext", "-max-time", "20"]
    if token:
        argv += ["-H", f"authorization: Bearer {token}"]
    if data is not None:
        argv += ["-d", json.dumps(data)]
    argv += [dev.address, *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def ok(done: subprocess.CompletedProcess[str]) -> dict:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def field(message: dict, name: str) -> object:
    """grpcurl prints proto field names; the JSON mapping's camelCase is accepted too."""
    camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)
    return message[name] if name in message else message[camel]


def test_reflection_lists_the_services_without_proto_files(dev):
    services = grpcurl(dev, "list").stdout.split()
    assert "erp.sales.v1.CustomerService" in services
    assert "erp.sales.v1.ProductService" in services
    assert "grpc.health.v1.Health" in services


def test_reflection_describes_each_rpc_with_the_permission_it_requires(dev):
    # A service, not a single method: Python's reflection cannot resolve method symbols
    # (grpc/grpc#34743), so `describe erp.sales.v1.CustomerService.CreateCustomer` fails.
    done = grpcurl(dev, "describe", "erp.sales.v1.CustomerService")
    assert done.returncode == 0, done.stderr
    create = done.stdout.split("rpc CreateCustomer", 1)[1].split("}", 1)[0]
    assert 'required_permission) = "sales:create"' in create


def test_health_check_reports_serving_overall_and_per_service(dev):
    assert ok(grpcurl(dev, "grpc.health.v1.Health/Check"))["status"] == "SERVING"
    per_service = grpcurl(dev, "grpc.health.v1.Health/Check",
                          data={"service": "erp.sales.v1.CustomerService"})
    assert ok(per_service)["status"] == "SERVING"


def test_created_customer_is_returned_by_get_with_the_same_code(dev, token):
    created = ok(grpcurl(dev, "erp.sales.v1.CustomerService/CreateCustomer", token=token, data={
        "customer": {"first_name": "Edith", "last_name": "Clarke", "email": "edith@example.com",
                     "customer_type": "CUSTOMER_TYPE_INDIVIDUAL",
                     "credit_limit": {"currency_code": "USD", "amount": "1500.00"}},
        "request_id": "e2e-create-1"}))["customer"]
    code = field(created, "customer_code")
    assert str(code).startswith("CUST-")

    fetched = ok(grpcurl(dev, "erp.sales.v1.CustomerService/GetCustomer", token=token,
                         data={"id": created["id"]}))["customer"]
    assert field(fetched, "customer_code") == code
    assert field(fetched, "credit_limit")["amount"] == "1500.00"


def test_a_call_without_a_token_is_unauthenticated(dev):
    done = grpcurl(dev, "erp.sales.v1.CustomerService/ListCustomers", data={})
    assert done.returncode != 0
    assert "Code: Unauthenticated" in done.stderr


def test_seed_run_twice_loads_the_demo_data_once(dev, token):
    mongodb_url = re.search(r"MongoDB: (\S+)", dev.banner).group(1)
    for _ in range(2):
        subprocess.run([_tool("sales-grpc"), "seed"], env={**ENV, "MONGODB_URL": mongodb_url},
                       capture_output=True, text=True, check=True, timeout=120)
    found = ok(grpcurl(dev, "erp.sales.v1.CustomerService/SearchCustomers", token=token,
                       data={"query": "harborfreight"}))
    assert len(found["customers"]) == 1
    low = ok(grpcurl(dev, "erp.sales.v1.ProductService/ListLowStockProducts", token=token))
    assert "SAFE-GOG-CLR" in {p["sku"] for p in low["products"]}


def test_sigterm_drains_stops_the_databases_and_exits_zero(tmp_path):
    server = _start_dev(tmp_path / "data")
    children = server.children()
    ports = server.ports()
    assert len(ports) == 2, server.banner
    try:
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(30) == 0, server.stderr.read_text()
    finally:
        _stop(server)
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    for port in ports:
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            pass
