"""Fixtures that start the real parts: SecantusDB and Redis processes, and the gRPC server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from sales_grpc.api.auth import mint_token
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import App, build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from sales_grpc.store.embedded import EmbeddedServers, start_embedded

# Property tests check what they find, not how fast: Hypothesis' default 200 ms deadline per
# example fails them as "flaky" when a loaded CI machine pauses one example.
hypothesis_settings.register_profile("suite", deadline=None,
                                     suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("suite")


@pytest.fixture(scope="session")
def embedded() -> Iterator[EmbeddedServers]:
    servers = start_embedded(None)
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def fresh_settings(embedded: EmbeddedServers) -> Callable[..., Settings]:
    """Settings for a database of its own on the session's servers; keywords override."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "mongodb_url": embedded.mongodb_url, "redis_url": embedded.redis_url,
            "database_name": f"test_{uuid.uuid4().hex[:8]}",
            "secret_key": "test-secret-for-the-suite-only-0123456789", "log_level": "WARNING"}
        return Settings(**{**values, **overrides})

    return make


@pytest.fixture(scope="session")
def settings(fresh_settings: Callable[..., Settings]) -> Settings:
    return fresh_settings()


@dataclass
class Running:
    app: App
    server: SalesServer
    channel: grpc.aio.Channel
    settings: Settings

    def token(self, subject: str = "rep-1", role: Role = Role.SALES_REP, team: str = "team-a",
              permissions: list[str] | None = None) -> tuple[tuple[str, str], ...]:
        """Call metadata carrying a freshly minted bearer token."""
        jwt = mint_token(self.settings, subject, role, team, permissions)
        return (("authorization", f"Bearer {jwt}"),)


@pytest.fixture(scope="session")
async def running(settings: Settings) -> AsyncIterator[Running]:
    app = await build(settings)
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    yield Running(app, server, channel, settings)
    await channel.close()
    await server.stop(1)
    await app.close()


@pytest.fixture
def rep(running: Running) -> tuple[tuple[str, str], ...]:
    return running.token("rep-1", Role.SALES_REP, "team-a")


@pytest.fixture
def clerk(running: Running) -> tuple[tuple[str, str], ...]:
    """A sales rep whose token the Auth service gave the catalog and stock permissions."""
    return running.token("clerk-1", Role.SALES_REP, "team-a", [
        "sales:read", "sales:create", "sales:update", "sales:catalog", "sales:stock"])


@pytest.fixture
def manager(running: Running) -> tuple[tuple[str, str], ...]:
    return running.token("manager-a", Role.SALES_MANAGER, "team-a")


@pytest.fixture
def admin(running: Running) -> tuple[tuple[str, str], ...]:
    return running.token("admin-1", Role.ADMIN, "")
