"""Shared benchmark parts: closed-loop load, percentiles, tables, and servers in child processes.

A server runs either in this process or in a child (`python -m bench.common serve sales|echo`),
configured from the environment like the real service. The child prints `LISTENING <port>`
once it serves and shuts down gracefully when its stdin closes, so it never outlives the
benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import grpc

from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import App, build
from sales_grpc.config import Settings

ECHO_METHOD = "/bench.Echo/Echo"


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted sequence, q in [0, 100]."""
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process (all its threads) has used; NaN without /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = stat.rsplit(")", 1)[1].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    name: str
    concurrency: int
    elapsed: float
    latencies: list[float] = field(repr=False)
    cpu: dict[str, float] = field(default_factory=dict)  # process role -> CPU seconds used

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def ms(self, q: float) -> float:
        return percentile(sorted(self.latencies), q) * 1000

    def cpu_us_per_call(self, role: str) -> float:
        """CPU microseconds the process in `role` spent per timed call (10 ms tick grain)."""
        used = self.cpu.get(role)
        return float("nan") if used is None else used / len(self.latencies) * 1e6


def merged(slices: Sequence[Result]) -> Result:
    """One cell from slices measured at different moments, e.g. interleaved with other cells
    so that a noisy neighbour's burst hits every cell alike rather than one of them."""
    first = slices[0]
    return Result(first.name, first.concurrency, sum(r.elapsed for r in slices),
                  [t for r in slices for t in r.latencies],
                  {role: sum(r.cpu[role] for r in slices) for role in first.cpu})


async def _drive(call: Callable[[int], Awaitable[Any]], concurrency: int, count: int,
                 deadline: float, latencies: list[float] | None) -> None:
    issued = 0

    async def worker() -> None:
        nonlocal issued
        while issued < count and time.perf_counter() < deadline:
            i = issued
            issued += 1
            started = time.perf_counter()
            await call(i)
            if latencies is not None:
                latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def closed_loop(name: str, call: Callable[[int], Awaitable[Any]], concurrency: int,
                      requests: int, duration: float, warmup: int,
                      processes: Mapping[str, int] | None = None) -> Result:
    """`concurrency` callers each issuing the next call as soon as their last one returns,
    until `requests` calls are done or `duration` seconds pass. Warm-up calls (at most a
    quarter of `duration`) are not timed. `processes` maps roles such as "server" to the pids
    whose CPU time the timed phase is charged with."""
    await _drive(call, concurrency, warmup, time.perf_counter() + duration / 4, None)
    pids = dict(processes or {})
    before = {role: cpu_seconds(pid) for role, pid in pids.items()}
    latencies: list[float] = []
    started = time.perf_counter()
    await _drive(call, concurrency, requests, started + duration, latencies)
    elapsed = time.perf_counter() - started
    cpu = {role: cpu_seconds(pid) - before[role] for role, pid in pids.items()}
    return Result(name, concurrency, elapsed, latencies, cpu)


CELL_WIDTH = 22


def cell(result: Result) -> str:
    return f"{result.throughput:7.0f} {result.ms(50):6.2f} {result.ms(99):7.2f}"


def cell_headers(name: str) -> tuple[str, str]:
    """The two header lines above a cell: the name centred, then the columns."""
    return f"{name:^{CELL_WIDTH}}", f"{'req/s':>7} {'p50 ms':>6} {'p99 ms':>7}"


# --- servers ------------------------------------------------------------------------------


class Server(Protocol):
    @property
    def port(self) -> int: ...

    @property
    def pid(self) -> int: ...

    async def stop(self) -> None: ...


async def _echo(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    return request


def echo_handler() -> grpc.GenericRpcHandler:
    """A bytes-in, bytes-out unary method: no protobuf, no interceptor, no database."""
    return grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(_echo)})


@dataclass
class InProcessServer:
    port: int
    server: grpc.aio.Server | SalesServer
    app: App | None = None
    pid: int = field(default_factory=os.getpid)

    async def stop(self) -> None:
        await self.server.stop(0.5)
        if self.app is not None:
            await self.app.close()


async def start_in_process(kind: str, settings: Settings | None = None) -> InProcessServer:
    if kind == "echo":
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((echo_handler(),))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return InProcessServer(port, server)
    app = await build(settings or Settings.from_env())
    sales = SalesServer(app)
    return InProcessServer(await sales.start("127.0.0.1:0"), sales, app)


@dataclass
class ChildServer:
    """A server in its own Python process, talking to us only over loopback."""

    port: int
    process: asyncio.subprocess.Process

    @property
    def pid(self) -> int:
        return self.process.pid

    async def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()  # the child's cue to shut down gracefully
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def start_child(kind: str, settings: Settings, interpreter: Sequence[str] = ()
                      ) -> ChildServer:
    """`interpreter` replaces plain `python`, e.g. `python -m cProfile -o out.prof`."""
    argv = [*(interpreter or [sys.executable]), "-m", "bench.common", "serve", kind]
    process = await asyncio.create_subprocess_exec(
        *argv, env={**os.environ, **settings_env(settings)}, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    while not (line := await asyncio.wait_for(process.stdout.readline(), 60)
               ).startswith(b"LISTENING "):
        if not line:  # a wrapper such as py-spy may print its own lines first
            await process.wait()
            raise RuntimeError(f"the {kind} server exited ({process.returncode}) before it "
                               "listened")
    return ChildServer(int(line.split()[1]), process)


def settings_env(settings: Settings) -> dict[str, str]:
    return {"MONGODB_URL": settings.mongodb_url, "REDIS_URL": settings.redis_url,
            "DATABASE_NAME": settings.database_name, "SECRET_KEY": settings.secret_key,
            "LOG_LEVEL": settings.log_level,
            "LIST_CONCURRENCY_LIMIT": str(settings.list_concurrency_limit),
            "LIST_WAIT_SECONDS": str(settings.list_wait_seconds),
            "LIST_PAGE_BYTES": str(settings.list_page_bytes)}


async def _serve(kind: str) -> None:
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level)
    server = await start_in_process(kind, settings)
    print(f"LISTENING {server.port}", flush=True)
    await asyncio.to_thread(sys.stdin.buffer.read)  # returns when the parent closes the pipe
    await server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.common")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve until stdin closes (settings from the env)")
    serve.add_argument("kind", choices=["sales", "echo"])
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.kind))


if __name__ == "__main__":
    main()
