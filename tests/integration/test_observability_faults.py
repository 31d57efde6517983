"""`sales-grpc serve` in a subprocess with LOG_FORMAT=json, a METRICS_PORT another process
holds and an OTLP endpoint where nothing listens: it serves, every line on stderr is a JSON
object, and calls succeed while the exporter fails in the background."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import customer_service_pb2_grpc as cgrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.store.embedded import EmbeddedServers

SECRET = "test-secret-for-the-faults-test-0123456789"


class Lines:
    """The server's stderr, parsed line by line as it comes (a JSON object each)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.seen: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        assert process.stderr is not None
        stream = process.stderr
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in iter(stream.readline, b""):
            self._queue.put(line.decode())
        self._queue.put(None)

    def wait_for(self, found: Any, timeout: float = 60.0) -> dict[str, Any]:
        """The first line (from all seen so far) for which `found(entry)` holds."""
        for entry in self.seen:
            if found(entry):
                return entry
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            self.raw.append(line)
            entry = json.loads(line)  # every line must parse
            self.seen.append(entry)
            if found(entry):
                return entry
        raise AssertionError(f"no such line in:\n{''.join(self.raw)}")

    def drain(self) -> None:
        while (line := self._queue.get(timeout=10)) is not None:
            self.raw.append(line)
            self.seen.append(json.loads(line))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def test_serves_with_json_logs_a_taken_metrics_port_and_a_dead_collector(
        embedded: EmbeddedServers, taken_port: int) -> None:
    dead = _free_port()  # nothing listens there
    settings = Settings(secret_key=SECRET)
    env = {**os.environ, "MONGODB_URL": embedded.mongodb_url, "REDIS_URL": embedded.redis_url,
           "DATABASE_NAME": f"test_{uuid.uuid4().hex[:8]}", "SECRET_KEY": SECRET,
           "SERVICE_HOST": "127.0.0.1", "SERVICE_PORT": "0", "LOG_LEVEL": "INFO",
           "LOG_FORMAT": "json", "METRICS_PORT": str(taken_port),
           "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{dead}",
           "OTEL_EXPORTER_OTLP_INSECURE": "true", "OTEL_BSP_SCHEDULE_DELAY": "100"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from sales_grpc.cli import main; main()", "serve"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines = Lines(process)
    try:
        warning = lines.wait_for(lambda e: "/metrics endpoint" in e["message"])
        assert warning["level"] == "WARNING" and str(taken_port) in warning["message"]
        serving = lines.wait_for(lambda e: e["message"].startswith("serving on "))
        port = int(serving["message"].split()[2].rpartition(":")[2])
        md = (("authorization", f"Bearer {mint_token(settings, 'rep-9', Role.ADMIN)}"),)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = cgrpc.CustomerServiceStub(channel)
            created = stub.CreateCustomer(cpb.CreateCustomerRequest(customer=cpb.Customer(
                first_name="Ann", last_name="Lee", email="ann@example.com",
                customer_type=cpb.CUSTOMER_TYPE_INDIVIDUAL)), metadata=md, timeout=10).customer
            # The exporter fails in its own thread (nothing listens on the endpoint) ...
            lines.wait_for(lambda e: e["logger"].startswith("opentelemetry.exporter")
                           and e["level"] in ("WARNING", "ERROR"))
            # ... and calls go on being answered meanwhile.
            for _ in range(5):
                got = stub.GetCustomer(cpb.GetCustomerRequest(id=created.id), metadata=md,
                                       timeout=10).customer
                assert got.id == created.id
            with pytest.raises(grpc.RpcError) as raised:
                stub.GetCustomer(cpb.GetCustomerRequest(id="0" * 24), metadata=md, timeout=10)
            assert raised.value.code() is grpc.StatusCode.NOT_FOUND
        access = lines.wait_for(lambda e: e.get("status") == "NOT_FOUND")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)  # an endpoint that does not answer must not hold the exit
        finally:
            if process.returncode is None:
                process.kill()
                process.wait()
    lines.drain()
    assert process.returncode == 0, "".join(lines.raw)

    assert access["method"] == "/erp.sales.v1.CustomerService/GetCustomer"
    assert access["logger"] == "sales_grpc.calls" and access["level"] == "INFO"
    assert access["subject"] == "rep-9"
    assert isinstance(access["duration_ms"], float)
    assert len(access["request_id"]) == 32
    assert len(access["trace_id"]) == 32 and int(access["trace_id"], 16)
    assert access["time"].endswith("Z")
    calls = [e for e in lines.seen if e["logger"] == "sales_grpc.calls"]
    assert [e["status"] for e in calls].count("OK") == 6
    assert len({e["trace_id"] for e in calls}) == len(calls)  # one trace per call
    assert any(e["message"] == "stopped" for e in lines.seen)
