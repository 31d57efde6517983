"""`sales-grpc serve --workers N`: N server processes on one port, and the parent that runs them.

Python runs one thread of Python code at a time per process, so one server process uses about
one core however many the machine has. With `--workers N` the command becomes a supervisor
that starts N workers (`python -m sales_grpc serve --worker-of ...`, each a whole server with
its own event loop, MongoDB and Redis clients, PDF processes and background jobs) listening on
the same port with SO_REUSEPORT: the Linux kernel spreads new connections over them (a hash of
each connection's addresses), and every call of a connection goes to the worker that accepted
it. The background jobs are safe with N processes as with N replicas: the outbox relay
publishes from one process at a time (a lease), mail jobs and projector batches are claimed.

Why a second server on the port still fails. A single server binds without SO_REUSEPORT
(api/server.py), so the kernel refuses a second one. Workers must set SO_REUSEPORT to share a
port, and the kernel lets any socket of the same user that sets it join them, so they may not
simply bind; the supervisor first takes the port with a socket of its own, the *guard*:

1. The guard binds the port without SO_REUSEPORT. This is the one atomic claim: it fails if
   any socket holds the port (another server, its workers, another supervisor's guard).
2. Only then does the guard set SO_REUSEPORT on itself (the kernel checks the flag of sockets
   already bound when a new one binds, so workers that set it may now bind beside the guard,
   which never listens and so never receives a connection).
3. The workers bind and listen with SO_REUSEPORT; the guard stays bound until they are gone.

A second `serve` (one process or a supervisor) binds without SO_REUSEPORT and fails on the
guard or the workers, with the same message as before. Only a program that sets SO_REUSEPORT
itself, runs as the same user and binds while the guard is held could join; our own programs
never do. One window is left: if the plain bind fails because the port only has connections
of a previous run in TIME_WAIT, the guard binds with SO_REUSEADDR instead (which still fails
on any listening socket); two supervisors started in the same instant on such a port could
both pass that step. Port 0 works too: the guard's port is the one every worker uses.

Elsewhere than Linux there is no SO_REUSEPORT that spreads connections (BSD and macOS hand
them all to one socket), so `--workers` above 1 is refused there: run one process per
container or port and balance in front of them.

Supervision: SIGTERM or SIGINT to the supervisor is forwarded to every worker as SIGTERM; each
drains its calls (SHUTDOWN_GRACE_SECONDS) and closes its clients, and the supervisor exits 0
once all have exited 0. A worker that exits on its own (a crash, the OOM killer, a signal from
someone else) is logged, and the supervisor stops the others and exits 1: the orchestrator
that started it (Kubernetes, systemd, Docker's restart policy) restarts the whole service
and shows the crash, where a restart loop inside would hide it. A worker whose supervisor
dies (SIGKILL) sees its end of the link close and stops gracefully, so none is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("sales_grpc.workers")
WILDCARDS = {"", "0.0.0.0", "::", "[::]"}
# How long after the drain a stopping worker may take to close its clients, past
# SHUTDOWN_GRACE_SECONDS, before the supervisor kills it.
CLOSE_MARGIN_SECONDS = 10.0


def reuse_port_supported() -> bool:
    """Whether the kernel spreads connections over sockets sharing a port (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


class PortTaken(Exception):
    pass


class PortGuard:
    """Holds `host:port` for the workers (the module's docstring says how and why)."""

    def __init__(self, host: str, port: int) -> None:
        self.sockets: list[socket.socket] = []
        try:
            for family, address in _addresses(host, port):
                if self.sockets:  # port 0: the first address's port for the others too
                    address = (address[0], self.port, *address[2:])
                self.sockets.append(_claim(family, address, wildcard=host in WILDCARDS))
        except OSError as exc:
            self.close()
            raise PortTaken(exc.strerror or str(exc)) from exc

    @property
    def port(self) -> int:
        return int(self.sockets[0].getsockname()[1])

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.sockets = []


def _addresses(host: str, port: int) -> list[tuple[int, tuple[Any, ...]]]:
    """The addresses gRPC binds for `host`: for a wildcard, [::] taking IPv4 too (gRPC binds
    dual-stack), or 0.0.0.0 without IPv6; else every address the name resolves to."""
    if host in WILDCARDS:
        return [(socket.AF_INET6, ("::", port, 0, 0))] if socket.has_ipv6 and _ipv6_works() \
            else [(socket.AF_INET, ("0.0.0.0", port))]
    found = socket.getaddrinfo(host.strip("[]"), port, socket.AF_UNSPEC, socket.SOCK_STREAM,
                               0, socket.AI_PASSIVE)
    unique: dict[tuple[Any, ...], int] = {}
    for family, _, _, _, address in found:
        unique.setdefault(address, family)
    return [(family, address) for address, family in unique.items()]


def _ipv6_works() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM):
            return True
    except OSError:
        return False


def _claim(family: int, address: tuple[Any, ...], wildcard: bool) -> socket.socket:
    def bind(reuse_address: bool) -> socket.socket:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if wildcard else 1)
            if reuse_address:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
        except OSError:
            sock.close()
            raise
        return sock

    try:
        sock = bind(reuse_address=False)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        sock = bind(reuse_address=True)  # connections of a past run in TIME_WAIT, if that
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


# --- the worker's side --------------------------------------------------------------------


class ParentLink:
    """A worker's end of the socket pair to its supervisor (`--worker-of PID:FD`): the worker
    says `ready` on it once it serves, and stops when it closes (the supervisor is gone)."""

    def __init__(self, spec: str) -> None:
        parent, _, fd = spec.partition(":")
        self.parent = int(parent)
        self.sock = socket.socket(fileno=int(fd))

    async def ready(self, app: object, port: int) -> None:
        try:
            self.sock.sendall(f"ready {os.getpid()} {port}\n".encode())
        except OSError:  # the supervisor is gone: `watch` sees the link closed and stops us
            pass

    def watch(self, stopping: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()

        def readable() -> None:
            try:
                data = self.sock.recv(64)
            except OSError:
                data = b""
            if not data:
                loop.remove_reader(self.sock)
                if not stopping.is_set():
                    log.warning("the supervisor (pid %d) is gone; stopping", self.parent)
                stopping.set()

        loop.add_reader(self.sock, readable)


# --- the supervisor -----------------------------------------------------------------------


@dataclass
class _Worker:
    number: int
    process: subprocess.Popen[bytes]
    link: socket.socket
    pending: bytes = b""
    ready: bool = False
    returncode: int | None = field(default=None)


def worker_env(env: Mapping[str, str], number: int) -> dict[str, str]:
    """Worker `number`'s environment: METRICS_PORT, when set, becomes METRICS_PORT + number - 1,
    so each worker serves its own metrics (one port cannot be shared by N HTTP servers)."""
    mine = dict(env)
    base = env.get("METRICS_PORT", "").strip()
    if base.isdigit() and int(base) > 0:
        mine["METRICS_PORT"] = str(int(base) + number - 1)
    return mine


def worker_command(parent: int, fd: int) -> list[str]:
    return [sys.executable, "-m", "sales_grpc", "serve", "--worker-of", f"{parent}:{fd}"]


def supervise(count: int, host: str, port: int, grace: float,
              env: Mapping[str, str] | None = None,
              ready: Callable[[int, list[int]], Any] | None = None,
              stop_signal: int | None = None) -> int:
    """Runs `count` workers on `host:port` until SIGTERM/SIGINT (0) or a worker's unexpected
    exit (1). `env` is added to the workers' environment; `ready(port, pids)` runs once all
    serve. `stop_signal`: one that arrived before this was called (stop at once)."""
    if not reuse_port_supported():
        log.error("--workers %d needs SO_REUSEPORT as Linux has it, to share one port; run "
                  "one process per port or container instead", count)
        return 2
    base = {**os.environ, **(env or {})}.get("METRICS_PORT", "").strip()
    if port and base.isdigit() and 0 < int(base) <= port < int(base) + count:
        log.error("METRICS_PORT=%s would give worker %d the service port %d (worker n serves "
                  "its metrics on METRICS_PORT + n - 1); choose one outside %d..%d", base,
                  port - int(base) + 1, port, port - count + 1, port)
        return 2
    try:
        guard = PortGuard(host, port)
    except PortTaken as exc:
        log.error("cannot listen on %s: %s; is another server running?", address(host, port),
                  exc)
        return 1
    try:
        return _Supervisor(count, host, guard.port, grace, env or {}, ready, stop_signal).run()
    finally:
        guard.close()


def address(host: str, port: int) -> str:
    """`host:port` as gRPC takes it (an IPv6 host in brackets)."""
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


class _Supervisor:
    def __init__(self, count: int, host: str, port: int, grace: float, env: Mapping[str, str],
                 ready: Callable[[int, list[int]], Any] | None, stop_signal: int | None
                 ) -> None:
        self.count, self.host, self.port, self.grace = count, host, port, grace
        self.env = {**os.environ, **env, "SERVICE_HOST": host, "SERVICE_PORT": str(port),
                    "WORKERS": "1"}
        self.on_ready = ready
        self.workers: list[_Worker] = []
        # Why the workers are being stopped, once they are.
        self.stopping: str | None = None if stop_signal is None \
            else f"received {signal.Signals(stop_signal).name}"
        self.failed = False
        self.selector = selectors.DefaultSelector()

    def run(self) -> int:
        wake_read, wake_write = socket.socketpair()
        wake_read.setblocking(False)
        wake_write.setblocking(False)
        previous = {sig: signal.signal(sig, self._note) for sig in (signal.SIGTERM,
                                                                     signal.SIGINT)}
        old_wakeup = signal.set_wakeup_fd(wake_write.fileno(), warn_on_full_buffer=False)
        self.selector.register(wake_read, selectors.EVENT_READ, None)
        try:
            if self.stopping is None:
                for number in range(1, self.count + 1):
                    self._start(number)
            self._loop(wake_read)
        finally:
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.selector.close()
            wake_read.close()
            wake_write.close()
            for worker in self.workers:
                worker.link.close()
        codes = [w.returncode for w in self.workers]
        if self.failed or any(code != 0 for code in codes):
            return 1
        log.info("stopped: all %d workers exited", len(self.workers))
        return 0

    def _note(self, signum: int, frame: object) -> None:
        if self.stopping is None:
            self.stopping = f"received {signal.Signals(signum).name}"

    def _start(self, number: int) -> None:
        mine, theirs = socket.socketpair()
        try:
            process = subprocess.Popen(worker_command(os.getpid(), theirs.fileno()),
                                       env=worker_env(self.env, number),
                                       pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        finally:
            theirs.close()
        mine.setblocking(False)
        worker = _Worker(number, process, mine)
        self.workers.append(worker)
        self.selector.register(mine, selectors.EVENT_READ, worker)

    def _loop(self, wake: socket.socket) -> None:
        forwarded = False
        deadline: float | None = None
        while any(w.returncode is None for w in self.workers):
            if self.stopping is not None and not forwarded:
                forwarded = True
                deadline = time.monotonic() + self.grace + CLOSE_MARGIN_SECONDS
                self._forward(signal.SIGTERM, self.stopping)
            timeout = 0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))
            for key, _ in self.selector.select(timeout):
                if key.data is None:
                    with contextlib.suppress(OSError):
                        wake.recv(512)
                else:
                    self._read(key.data)
            self._reap()
            if deadline is not None and time.monotonic() >= deadline:
                for worker in self.workers:
                    if worker.returncode is None:
                        log.error("worker %d (pid %d) did not stop in time; killing it",
                                  worker.number, worker.process.pid)
                        worker.process.kill()
                        worker.returncode = worker.process.wait()
                self.failed = True

    def _forward(self, sig: int, why: str) -> None:
        alive = [w for w in self.workers if w.returncode is None]
        if alive:
            log.info("%s: stopping %d workers (pids %s), each draining its calls for up to "
                     "%ss", why, len(alive), " ".join(str(w.process.pid) for w in alive),
                     f"{self.grace:g}")
        for worker in alive:
            with contextlib.suppress(ProcessLookupError):
                worker.process.send_signal(sig)

    def _read(self, worker: _Worker) -> None:
        try:
            data = worker.link.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.selector.unregister(worker.link)
            return
        worker.pending += data
        while b"\n" in worker.pending:
            line, worker.pending = worker.pending.split(b"\n", 1)
            if line.startswith(b"ready ") and not worker.ready:
                worker.ready = True
                log.info("worker %d (pid %d) serving on %s", worker.number, worker.process.pid,
                         address(self.host, self.port))
                if all(w.ready for w in self.workers) and len(self.workers) == self.count:
                    self._all_ready()

    def _all_ready(self) -> None:
        pids = [w.process.pid for w in self.workers]
        log.info("serving on %s with %d workers (pids %s)", address(self.host, self.port),
                 self.count, " ".join(map(str, pids)))
        if self.on_ready is not None and self.stopping is None:
            self.on_ready(self.port, pids)

    def _reap(self) -> None:
        for worker in self.workers:
            if worker.returncode is not None:
                continue
            code = worker.process.poll()
            if code is None:
                continue
            worker.returncode = code
            if code in (-signal.SIGTERM, -signal.SIGINT) and self.stopping is not None:
                # Still starting when asked to stop (by us, or by a terminal's Ctrl-C, which
                # reaches the whole process group): killed before it could note the signal,
                # with no call or client yet to drain or close.
                log.info("worker %d (pid %d) stopped while starting", worker.number,
                         worker.process.pid)
                worker.returncode = 0
            elif self.stopping is None:
                log.error("worker %d (pid %d) %s %s; stopping the other workers",
                          worker.number, worker.process.pid, _how(code),
                          "before serving" if not worker.ready else "unexpectedly")
                self.failed = True
                self.stopping = f"worker {worker.number} is gone"
            elif code != 0:
                log.error("worker %d (pid %d) %s while stopping", worker.number,
                          worker.process.pid, _how(code))


def _how(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
        return f"was killed by signal {-code}"
    return f"exited with code {code}"
