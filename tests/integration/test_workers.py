"""`sales-grpc serve --workers 2` as a real process on the session's SecantusDB and Redis: both
workers take connections on the one port, a second server on that port fails, SIGTERM stops
everything with exit code 0, a worker that dies takes the service down with exit code 1, and
the background jobs (outbox relay, mail delivery) do each piece of work once with two
processes running them.

Which worker holds a connection is read from the kernel, not from the service: the server side
of every established TCP connection on the port (/proc/net/tcp*) and the socket inodes each
worker has open (/proc/<pid>/fd). Linux only, as SO_REUSEPORT sharing is.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from erp.sales.v1 import delivery_pb2
from erp.sales.v1 import quote_service_pb2 as qpb
from erp.sales.v1 import quote_service_pb2_grpc as qgrpc
from sales_grpc.api.auth import mint_token
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.store.embedded import free_port
from sales_grpc.store.outbox import STREAM
from sales_grpc.workers import reuse_port_supported

from ..api.order_fixtures import Shop, line
from ..mail.conftest import SmtpServer, smtp  # noqa: F401 - the fixture, for the mail test

pytestmark = pytest.mark.skipif(not reuse_port_supported() or not Path("/proc/net/tcp").exists(),
                                reason="workers share a port with Linux SO_REUSEPORT")

_SERVICE_VARS = {"SECRET_KEY", "ALGORITHM", "JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE",
                 "ENVIRONMENT", "MONGODB_URL", "REDIS_URL", "DATABASE_NAME", "SERVICE_HOST",
                 "SERVICE_PORT", "LOG_LEVEL", "WORKERS"}
READY = re.compile(r"serving on 127\.0\.0\.1:(\d+) with (\d+) workers \(pids ([\d ]+)\)")


def _env(settings: Settings, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SERVICE_VARS}
    return {**env, "MONGODB_URL": settings.mongodb_url, "REDIS_URL": settings.redis_url,
            "DATABASE_NAME": settings.database_name, "SECRET_KEY": settings.secret_key,
            "LOG_LEVEL": "INFO", "SERVICE_HOST": "127.0.0.1", "SERVICE_PORT": str(port),
            "SHUTDOWN_GRACE_SECONDS": "3", **extra}


def _serve(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as stderr:
        return subprocess.Popen([sys.executable, "-m", "sales_grpc", "serve", *args], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=stderr)


@dataclass
class Workers:
    process: subprocess.Popen[bytes]
    port: int
    pids: list[int]
    log: Path

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def _start(settings: Settings, log: Path, count: int = 2, **extra: str) -> Workers:
    port = free_port()
    process = _serve(_env(settings, port, **extra), "--workers", str(count), log=log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = READY.search(log.read_text(errors="replace"))
        if found:
            assert int(found.group(1)) == port and int(found.group(2)) == count
            return Workers(process, port, [int(p) for p in found.group(3).split()], log)
        if process.poll() is not None:
            pytest.fail(f"serve --workers exited with {process.returncode}:\n{log.read_text()}")
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"serve --workers did not serve in time:\n{log.read_text()}")


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Workers]]:
    started: list[Workers] = []

    def run(settings: Settings, count: int = 2, **extra: str) -> Workers:
        workers = _start(settings, tmp_path / f"serve-{len(started)}.log", count, **extra)
        started.append(workers)
        return workers

    yield run
    for workers in started:
        if workers.process.poll() is None:
            workers.process.kill()
            workers.process.wait()
        for pid in workers.pids:  # a worker whose supervisor was killed stops by itself
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _connections(port: int, pids: list[int]) -> dict[int, int]:
    """How many established connections to `port` each pid holds the server side of."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for row in Path(table).read_text().splitlines()[1:]:
                fields = row.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(inode)
    held = {}
    for pid in pids:
        held[pid] = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    held[pid] += 1
    return held


def _gone(pid: int) -> bool:
    """Exited (a zombie counts: nothing of it runs any more)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _channels(target: str, count: int) -> list[grpc.aio.Channel]:
    """Channels with a connection each (a local subchannel pool: gRPC would otherwise share
    one connection among channels to one target with the same arguments)."""
    return [grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
            for _ in range(count)]


async def _reaching_every_worker(workers: Workers, count: int) -> list[grpc.aio.Channel]:
    """`count` connected channels of which each worker holds at least one. The kernel spreads
    connections over the SO_REUSEPORT sockets by a hash of their addresses, so 8 land all on
    one of two workers once in 128 tries: then they are opened again."""
    for _ in range(10):
        channels = _channels(workers.target, count)
        await asyncio.gather(*(asyncio.wait_for(ch.channel_ready(), 30) for ch in channels))
        if all(n > 0 for n in _connections(workers.port, workers.pids).values()):
            return channels
        for channel in channels:
            await channel.close()
        await asyncio.sleep(0.2)  # the closed connections leave the table first
    raise AssertionError(f"connections never reached every worker: {workers.text()[-2000:]}")


def _admin(settings: Settings) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {mint_token(settings, 'admin-w', Role.ADMIN)}"),)


async def test_both_workers_take_connections_and_sigterm_stops_all_with_exit_code_0(
        fresh_settings, start):
    settings = fresh_settings()
    workers = start(settings)
    assert len(set(workers.pids)) == 2 and workers.process.pid not in workers.pids
    channels = _channels(workers.target, 16)
    try:
        md = _admin(settings)
        customers = await asyncio.gather(*(Shop(c, md).customer() for c in channels))
        assert len({c.id for c in customers}) == 16
        held = _connections(workers.port, workers.pids)
        assert sum(held.values()) == 16, held
        # The kernel hashes each new connection to a worker: all 16 on one of two would
        # happen once in 30,000 runs.
        assert all(count > 0 for count in held.values()), held
    finally:
        for channel in channels:
            await channel.close()
    assert workers.stop() == 0, workers.text()
    assert all(_gone(pid) for pid in workers.pids)
    text = workers.text()
    assert "received SIGTERM: stopping 2 workers" in text
    assert text.count("shutting down: draining calls") == 2
    assert "stopped: all 2 workers exited" in text


def test_sigterm_while_the_workers_start_stops_them_all_with_exit_code_0(fresh_settings,
                                                                      tmp_path):
    log = tmp_path / "early.log"
    process = _serve(_env(fresh_settings(), free_port()), "--workers", "2", log=log)
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if len(children.read_text().split()) == 2:  # both started, neither serving yet
                break
            time.sleep(0.01)
        pids = [int(p) for p in children.read_text().split()]
        assert len(pids) == 2, log.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, log.read_text()
        assert all(_gone(pid) for pid in pids)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_a_second_server_on_the_port_fails_whether_one_process_or_workers(
        fresh_settings, start, tmp_path):
    settings = fresh_settings()
    workers = start(settings)
    env = _env(settings, workers.port)
    for args in ((), ("--workers", "2")):
        log = tmp_path / f"second{len(args)}.log"
        second = _serve(env, *args, log=log)
        assert second.wait(60) == 1, log.read_text()
        assert f"cannot listen on 127.0.0.1:{workers.port}" in log.read_text()
    assert workers.process.poll() is None
    assert workers.stop() == 0


async def test_a_worker_that_dies_stops_the_others_and_the_supervisor_exits_1(
        fresh_settings, start):
    workers = start(fresh_settings())
    victim, other = workers.pids
    os.kill(victim, signal.SIGKILL)
    assert workers.process.wait(30) == 1
    assert _gone(other)
    assert re.search(rf"worker \d \(pid {victim}\) was killed by SIGKILL unexpectedly; "
                     "stopping the other workers", workers.text())


async def test_workers_stop_by_themselves_when_their_supervisor_is_killed(fresh_settings,
                                                                          start):
    workers = start(fresh_settings())
    workers.process.kill()
    workers.process.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if all(_gone(pid) for pid in workers.pids):
            break
        await asyncio.sleep(0.1)
    assert all(_gone(pid) for pid in workers.pids), workers.text()
    assert workers.text().count("the supervisor (pid") == 2


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


async def _wait_for(check: Callable[[], object], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():  # type: ignore[misc]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_two_workers_publish_each_event_once_and_send_each_mail_once(
        fresh_settings, start, smtp: SmtpServer, redis: Redis):  # noqa: F811
    settings = fresh_settings()
    workers = start(settings, SMTP_SERVER="127.0.0.1", SMTP_PORT=str(smtp.port),
                    SMTP_STARTTLS="false", MAIL_POLL_SECONDS="0.05",
                    SMTP_FROM="Sales <sales@shop.example>")
    channels = await _reaching_every_worker(workers, 8)
    mongo: AsyncMongoClient = AsyncMongoClient(settings.mongodb_url)
    try:
        md = _admin(settings)
        shops = [Shop(channel, md) for channel in channels]
        products = [await shops[0].product(stock=10_000) for _ in range(2)]
        customers = await asyncio.gather(*(shop.customer() for shop in shops))

        async def orders(k: int) -> None:
            shop = shops[k % len(shops)]
            for _ in range(6):
                order = await shop.order(customers[k % len(shops)].id,
                                         line(products[0].id, 1), line(products[1].id, 2))
                await shop.confirm(order.id)

        async def quote(k: int) -> str:
            shop, quotes = shops[k], qgrpc.QuoteServiceStub(channels[k])
            made = (await quotes.CreateQuote(qpb.CreateQuoteRequest(quote=qpb.Quote(
                customer_id=customers[k].id, lines=[line(products[0].id, 3)])),
                metadata=md)).quote
            await quotes.SendQuote(qpb.SendQuoteRequest(id=made.id), metadata=shop.md)
            return made.id

        quote_ids = (await asyncio.gather(*(orders(k) for k in range(8)),
                                          *(quote(k) for k in range(8))))[8:]
        db = mongo[settings.database_name]

        async def all_published() -> bool:
            return await db.outbox.count_documents({"published": False}) == 0

        async def all_mailed() -> bool:
            return await db.mail_jobs.count_documents({"state": {"$ne": "sent"}}) == 0 and \
                len(smtp.inbox.received) >= len(quote_ids)

        await _wait_for(all_published, "the outbox to be published")
        try:
            await _wait_for(all_mailed, "every quote's mail")
        except AssertionError:
            jobs = await db.mail_jobs.find({}, {"state": 1, "attempts": 1, "last_error": 1}
                                           ).to_list()
            raise AssertionError(f"{len(smtp.inbox.received)} mails arrived; jobs: {jobs}\n"
                                 f"{workers.text()[-3000:]}") from None
        await asyncio.sleep(1.0)  # room for a duplicate to show, were there one

        events = {doc["_id"] async for doc in db.outbox.find({}, {"_id": 1})}
        assert len(events) >= 8 * 6 * 2 + 8  # created and confirmed orders, sent quotes
        published: Counter[str] = Counter()
        for _, fields in await redis.xrange(STREAM):
            event_id = fields[b"event_id"].decode()
            if event_id in events:
                published[event_id] += 1
        assert set(published) == events
        assert [e for e, n in published.items() if n > 1] == []

        assert len(smtp.inbox.received) == len(quote_ids)
        ids = [m.message["Message-ID"] for m in smtp.inbox.received]
        assert len(set(ids)) == len(ids)
        jobs = await db.mail_jobs.find({}, {"attempts": 1, "state": 1}).to_list()
        assert len(jobs) == len(quote_ids)
        assert all(j["state"] == "sent" and j["attempts"] == 1 for j in jobs), jobs
        quotes = qgrpc.QuoteServiceStub(channels[0])
        for quote_id in quote_ids:
            got = (await quotes.GetQuote(qpb.GetQuoteRequest(id=quote_id), metadata=md)).quote
            assert got.delivery.state == delivery_pb2.DELIVERY_STATE_SENT
    finally:
        for channel in channels:
            await channel.close()
        await mongo.close()
    assert workers.stop() == 0
