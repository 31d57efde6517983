"""`sales-grpc serve | dev | token | seed | pdf | analytics`: the service's entry points."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from pymongo.errors import PyMongoError

from . import dashboard_cli, export_cli, seed, seed_history, workers
from .api.auth import mint_token
from .api.document_client import KINDS, DownloadFailed, download
from .api.server import SalesServer
from .bootstrap import App, build
from .client_args import caller_token, server_address
from .config import Settings
from .domain.access import Role
from .domain.authorization import GRANTABLE
from .observability import logs, tracing
from .store.embedded import EmbeddedServers, start_embedded

log = logging.getLogger("sales_grpc.cli")
DEFAULT_DATA_DIR = Path(".sales-grpc-data")


def configure_logging(level: str, log_format: str = "text") -> None:
    """One record per line on stderr: text for people, or JSON (observability/logs.py)."""
    if not isinstance(logging.getLevelNamesMapping().get(level.upper()), int):
        _fail(f"LOG_LEVEL={level!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logs.formatter(log_format))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


def _fail(message: str, code: int = 2) -> NoReturn:
    print(f"sales-grpc: {message}", file=sys.stderr)
    sys.exit(code)


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings.from_env(**overrides)
    except ValueError as exc:
        _fail(str(exc))


class _EarlySignals:
    """Notes SIGTERM/SIGINT that arrive before the event loop handles them, so that start-up
    (child processes, connections) is never cut off halfway and leaves nothing behind."""

    def __init__(self) -> None:
        self.received: int | None = None
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._note)

    def _note(self, signum: int, frame: object) -> None:
        self.received = signum


async def _serve(settings: Settings, host: str, port: int, early: _EarlySignals,
                 ready: Callable[[App, int], Any] | None = None,
                 prepare: Callable[[App], Any] | None = None,
                 link: workers.ParentLink | None = None) -> None:
    """Serves until SIGTERM or SIGINT, then drains in-flight calls and closes the clients.
    `prepare` runs before the server starts: before its background jobs too. `link`: this
    process is a worker of `serve --workers` (sales_grpc/workers.py), sharing the port."""
    # Before the clients are made: the MongoDB client takes its tracing listener then.
    tracing.configure()
    try:
        app = await build(settings)
    except PyMongoError as exc:
        _fail(f"cannot prepare the database {settings.database_name}: {exc}", 1)
    try:
        if prepare is not None:
            await prepare(app)
        server = SalesServer(app, reuse_port=link is not None)
        try:
            bound = await server.start(workers.address(host, port))
        except RuntimeError as exc:
            _fail(f"cannot listen on {workers.address(host, port)}: {exc}", 1)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        if early.received is not None:
            stopping.set()
        if link is not None:
            link.watch(stopping)
        log.info("serving on %s%s", workers.address(host, bound),
                 f" (pid {os.getpid()}, a worker of pid {link.parent})" if link else "")
        if ready is not None and not stopping.is_set():
            await ready(app, bound)
        await stopping.wait()
        log.info("shutting down: draining calls for up to %ss",
                 settings.shutdown_grace_seconds)
        await server.stop(settings.shutdown_grace_seconds)
    finally:
        await app.close()
        # The spans still queued, for a few seconds at most (an endpoint that does not
        # answer must not hold the exit).
        await asyncio.to_thread(tracing.shutdown)
    log.info("stopped")


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    count = args.workers or settings.workers
    if args.worker_of is None and count > 1:
        return workers.supervise(count, settings.service_host, settings.service_port,
                                 settings.shutdown_grace_seconds)
    early = _EarlySignals()
    link = workers.ParentLink(args.worker_of) if args.worker_of is not None else None
    asyncio.run(_serve(settings, settings.service_host, settings.service_port, early,
                       link.ready if link else None, link=link))
    return 0


def _beside_python(name: str) -> str:
    """How to call a console script of this venv from the user's shell: by name if the venv is
    activated (or there is none), else by path (./scripts/serve only puts it on its own PATH)."""
    beside = Path(sys.executable).parent / name
    activated = Path(os.environ.get("VIRTUAL_ENV") or "/nonexistent").resolve()
    if (not beside.exists() or sys.prefix == sys.base_prefix
            or activated == Path(sys.prefix).resolve()):
        return name
    try:
        return str(beside.relative_to(Path.cwd()))
    except ValueError:
        return str(beside)


def _banner(address: str, servers: EmbeddedServers, data_dir: Path) -> str:
    token, grpcurl = _beside_python("sales-grpc"), _beside_python("grpcurl")
    auth = '-H "authorization: Bearer $TOKEN"'
    return "\n".join([
        f"sales-grpc dev: serving on {address}",
        f"  data:    {data_dir}",
        f"  MongoDB: {servers.mongodb_url}  (SecantusDB)",
        f"  Redis:   {servers.redis_url}",
        "",
        "Mint a token (8 hours):",
        f"  export TOKEN=$({token} token --role admin --sub me)",
        "Try it:",
        f"  {grpcurl} -plaintext {address} list",
        f"  {grpcurl} -plaintext {address} grpc.health.v1.Health/Check",
        f"  {grpcurl} -plaintext {auth} -d '{{\"page_size\": 5}}' {address} "
        "erp.sales.v1.CustomerService/ListCustomers",
        f"  {grpcurl} -plaintext {auth} {address} erp.sales.v1.ProductService/ListCategories",
        "Stop with Ctrl-C.",
        "",
    ])


def _check_port_free(host: str, port: int) -> None:
    """gRPC binds with SO_REUSEPORT, so a second `dev` on a busy port would silently share it
    with the first (and its other database); a plain bind sees the port is taken."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            _fail(f"cannot listen on {workers.address(host, port)}: {exc.strerror}; is another "
                  "server running? Pick another with --port", 1)


def cmd_dev(args: argparse.Namespace) -> int:
    data_dir = args.data_dir.resolve()
    port = args.port if args.port is not None else int(os.environ.get("SERVICE_PORT") or 50051)
    _check_port_free(args.host, port)
    early = _EarlySignals()
    servers: EmbeddedServers | None = None
    try:
        servers = start_embedded(data_dir, args.mongo_port, args.redis_port)
        if early.received is not None:
            return 0
        settings = _settings(mongodb_url=servers.mongodb_url, redis_url=servers.redis_url,
                             service_host=args.host, service_port=port)
        configure_logging(settings.log_level, settings.log_format)
        embedded = servers

        async def prepare(app: App) -> None:
            # Before the server starts: its quote expiry and overdue jobs run on today's
            # clock and would close the back-dated quotes the history is still answering.
            if not args.history:
                return
            log.info("loading %d months of demo history before serving if the database has "
                     "no orders: a few minutes", args.history)
            past = await seed_history.load_history_if_new(app, args.history)
            if past is None:
                log.info("demo history not loaded: the database already has sales orders")
            else:
                log.info("loaded demo history: %d orders, %d invoices", past.orders,
                         past.invoices)

        async def load_demo(app: App) -> None:
            if args.seed and await seed.is_empty(app):
                report = await seed.load(app)
                log.info("loaded demo data: %d customers, %d products",
                         report.customers, report.products)

        async def ready(app: App, bound: int) -> None:
            await load_demo(app)
            print(_banner(workers.address(args.host, bound), embedded, data_dir), flush=True)

        count = args.workers or settings.workers
        if count > 1:
            return _dev_workers(settings, count, early, [prepare, load_demo], {
                "MONGODB_URL": servers.mongodb_url, "REDIS_URL": servers.redis_url},
                lambda bound: print(_banner(workers.address(args.host, bound), embedded, data_dir),
                                    flush=True))
        asyncio.run(_serve(settings, args.host, port, early, ready, prepare))
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):  # let the children stop undisturbed
            signal.signal(sig, signal.SIG_IGN)
        if servers is not None:
            servers.stop()
    return 0


def _dev_workers(settings: Settings, count: int, early: _EarlySignals,
                 steps: list[Callable[[App], Any]], env: dict[str, str],
                 banner: Callable[[int], Any]) -> int:
    """`dev --workers N`: the history and demo data loaded here first (on one App of this
    process), then N workers that connect to this process's embedded servers."""
    async def setup() -> None:
        try:
            app = await build(settings)
        except PyMongoError as exc:
            _fail(f"cannot prepare the database {settings.database_name}: {exc}", 1)
        try:
            for step in steps:
                await step(app)
        finally:
            await app.close()

    asyncio.run(setup())
    return workers.supervise(count, settings.service_host, settings.service_port,
                             settings.shutdown_grace_seconds, env,
                             lambda bound, pids: banner(bound), early.received)


def cmd_token(args: argparse.Namespace) -> int:
    settings = _settings()
    if "HS256" not in settings.allowed_algorithms or settings.jwks_url:
        print("sales-grpc: warning: this token is HS256-signed with SECRET_KEY, but the server "
              "is configured for ALGORITHM/JWKS_URL and may reject it", file=sys.stderr)
    permissions = None
    if args.permissions is not None:
        permissions = [p.strip() for p in args.permissions.split(",") if p.strip()]
        unknown = sorted(set(permissions) - set(GRANTABLE))
        if unknown:
            _fail(f"unknown permissions {', '.join(unknown)}; use {', '.join(GRANTABLE)}")
    print(mint_token(settings, args.sub, Role(args.role), args.team, permissions, args.ttl))
    return 0


async def _seed(settings: Settings, months: int) -> seed.SeedReport:
    app = await build(settings)
    try:
        past = await seed_history.load_history_if_new(app, months) if months else None
        if months and past is None:
            print("demo history not loaded: the database already has sales orders")
        elif past is not None:
            print(f"demo history: {past.months} months, {past.customers} customers, "
                  f"{past.quotes} quotes, {past.orders} orders ({past.cancelled} cancelled), "
                  f"{past.invoices} invoices, {past.payments} payments, "
                  f"{past.credit_notes} credit notes")
        return await seed.load(app)
    finally:
        await app.close()


def cmd_seed(args: argparse.Namespace) -> int:
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    report = asyncio.run(_seed(settings, args.history))
    print(f"demo data present: {report.customers} customers, {report.products} products, "
          f"{report.receipts} stock receipts (database {settings.database_name})")
    return 0


def cmd_pdf(args: argparse.Namespace) -> int:
    """Downloads a document's PDF from a running server, as the token's caller may see it."""
    token = caller_token(args.token)
    if not token:
        _fail("no token: pass --token or export TOKEN=$(sales-grpc token --role admin --sub me)")
    address = server_address(args.address)
    try:
        file = asyncio.run(download(address, token, args.kind, args.id, args.timeout))
    except DownloadFailed as exc:
        _fail(f"cannot get the {args.kind.replace('_', ' ')} {args.id} from {address}: {exc}",
              1)
    if args.output == "-":
        sys.stdout.buffer.write(file.data)
        sys.stdout.buffer.flush()
        return 0
    target = Path(args.output or file.file_name)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(file.data)
    partial.replace(target)  # whole or not at all: an interrupted run leaves no half PDF
    print(f"wrote {target} ({len(file.data)} bytes, {file.content_type})", file=sys.stderr)
    return 0


async def _analytics(settings: Settings, action: str) -> int:
    app = await build(settings)
    try:
        maintenance = app.analytics.maintenance
        if action == "rebuild":
            report = await maintenance.rebuild()
            print(f"rebuilt {report.rollups} revenue rollups from the documents; "
                  f"{report.events_counted} unprojected events were already counted "
                  f"(database {settings.database_name})")
            return 0
        differences = await maintenance.check()
        for difference in differences:
            print(difference)
        if differences:
            print(f"{len(differences)} revenue rollups differ from the documents; "
                  "`sales-grpc analytics rebuild` recomputes them", file=sys.stderr)
            return 1
        print(f"revenue rollups match the documents (database {settings.database_name})")
        return 0
    finally:
        await app.close()


def cmd_analytics(args: argparse.Namespace) -> int:
    """Rebuilds the revenue rollups from the documents, or checks them against the documents;
    safe while servers run (their projectors pause meanwhile)."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        return asyncio.run(_analytics(settings, args.action))
    except PyMongoError as exc:
        _fail(f"cannot {args.action} the revenue rollups in {settings.database_name}: {exc}", 1)


def _positive(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _count(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError("must be from 1 to 256")
    return value


def _months(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 60:
        raise argparse.ArgumentTypeError("must be from 0 to 60 months")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sales-grpc", description="The sales gRPC service.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve in production; configured by environment "
                           "variables (MONGODB_URL, REDIS_URL, SECRET_KEY, ...)")
    serve.add_argument("--workers", type=_count, default=None, metavar="N",
                       help="server processes sharing the port (Linux SO_REUSEPORT; "
                       "default: WORKERS, else 1)")
    serve.add_argument("--worker-of", default=None, help=argparse.SUPPRESS)  # workers.py
    serve.set_defaults(run=cmd_serve)

    dev = sub.add_parser("dev", help="serve with an embedded SecantusDB and Redis")
    dev.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                     help="where the embedded databases keep data (default: %(default)s)")
    dev.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    dev.add_argument("--port", type=int, default=None,
                     help="default: SERVICE_PORT, else 50051; 0 picks a free port")
    dev.add_argument("--mongo-port", type=int, default=0, help="default: a free port")
    dev.add_argument("--redis-port", type=int, default=0, help="default: a free port")
    dev.add_argument("--seed", action="store_true",
                     help="load demo data at start if the database is empty")
    dev.add_argument("--history", type=_months, default=0, metavar="MONTHS",
                     help="load MONTHS of demo sales history at start if there are no orders")
    dev.add_argument("--workers", type=_count, default=None, metavar="N",
                     help="server processes sharing the port, all on the one embedded "
                     "SecantusDB and Redis (default: WORKERS, else 1)")
    dev.set_defaults(run=cmd_dev)

    token = sub.add_parser("token", help="print a signed HS256 token for SECRET_KEY")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--sub", required=True, help="the caller's subject (user id)")
    token.add_argument("--team", default="", help="the caller's team id")
    token.add_argument("--permissions", default=None,
                       help="comma-separated, e.g. sales:read,sales:create "
                       "(default: the role's permissions)")
    token.add_argument("--ttl", type=_positive, default=8 * 3600,
                       help="lifetime in seconds (default: %(default)s)")
    token.set_defaults(run=cmd_token)

    seed_cmd = sub.add_parser("seed", help="load demo data into MONGODB_URL (idempotent)")
    seed_cmd.add_argument("--history", type=_months, default=0, metavar="MONTHS",
                          help="also MONTHS of sales history before this month and this "
                          "month so far, into a database without orders (e.g. 24)")
    seed_cmd.set_defaults(run=cmd_seed)

    pdf = sub.add_parser("pdf", help="download a document as PDF from a running server")
    pdf.add_argument("kind", choices=sorted(KINDS), help="the kind of document")
    pdf.add_argument("id", help="the document's id")
    pdf.add_argument("-o", "--output", default=None, metavar="FILE",
                     help="where to write it; - for standard output (default: the file "
                     "name the server gives, e.g. SO-2026-000123.pdf or INV-2026-000001.pdf)")
    pdf.add_argument("--address", default=None, metavar="HOST:PORT",
                     help="the server (default: 127.0.0.1:SERVICE_PORT, else 50051)")
    pdf.add_argument("--token", default=None,
                     help="a bearer token (default: the TOKEN environment variable)")
    pdf.add_argument("--timeout", type=_positive, default=60,
                     help="seconds to wait for the whole file (default: %(default)s)")
    pdf.set_defaults(run=cmd_pdf)

    analytics = sub.add_parser("analytics", help="rebuild or check the revenue rollups in "
                               "MONGODB_URL against the documents")
    analytics.add_argument("action", choices=["rebuild", "check"],
                           help="rebuild: recompute every rollup; check: report rollups that "
                           "differ (exit code 1 if any)")
    analytics.set_defaults(run=cmd_analytics)
    export_cli.add_parser(sub)
    dashboard_cli.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    sys.exit(args.run(args))
