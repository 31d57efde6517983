"""The port guard of `serve --workers` (sales_grpc/workers.py): it takes the port atomically,
lets only sockets that set SO_REUSEPORT join it, and refuses a port already taken; and each
worker's environment."""

from __future__ import annotations

import socket

import pytest

from sales_grpc import workers
from sales_grpc.workers import PortGuard, PortTaken, reuse_port_supported, worker_env

pytestmark = pytest.mark.skipif(not reuse_port_supported(),
                                reason="workers share a port with Linux SO_REUSEPORT")


def _bind(port: int, reuse_port: bool, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC's listeners do
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", "localhost"])
def test_the_guard_lets_workers_join_and_refuses_everyone_else(host):
    guard = PortGuard(host, 0)
    port = guard.port
    try:
        workers = [_bind(port, reuse_port=True) for _ in range(2)]
        for worker in workers:
            worker.listen()
        with pytest.raises(OSError):  # a second server, as api/server.py binds
            _bind(port, reuse_port=False)
        with pytest.raises(PortTaken):  # a second supervisor
            PortGuard(host, port)
        for worker in workers:
            worker.close()
        with pytest.raises(PortTaken):  # the guard alone still holds it
            PortGuard(host, port)
    finally:
        guard.close()
    PortGuard(host, port).close()  # and lets it go


def test_a_port_a_server_listens_on_cannot_be_guarded():
    server = _bind(0, reuse_port=False)
    server.listen()
    try:
        with pytest.raises(PortTaken):
            PortGuard("127.0.0.1", server.getsockname()[1])
    finally:
        server.close()


def test_each_worker_gets_a_metrics_port_of_its_own():
    env = {"METRICS_PORT": "9464", "OTHER": "x"}
    assert [worker_env(env, n)["METRICS_PORT"] for n in (1, 2, 3)] == ["9464", "9465", "9466"]
    assert worker_env(env, 2)["OTHER"] == "x"
    assert "METRICS_PORT" not in worker_env({}, 2)


def test_workers_whose_metrics_ports_would_take_the_service_port_are_refused(
        caplog: pytest.LogCaptureFixture) -> None:
    # Worker 2 would serve its metrics on 50050 + 1: the service's port.
    assert workers.supervise(2, "127.0.0.1", 50051, 1.0, {"METRICS_PORT": "50050"}) == 2
    assert "METRICS_PORT=50050 would give worker 2 the service port 50051" in caplog.text
