"""The defaults of the commands that call a running server (`pdf`, `export`, `dashboard`)."""

from __future__ import annotations

import os


def server_address(given: str | None) -> str:
    """`--address`, else 127.0.0.1 on SERVICE_PORT (an empty one counts as unset), else 50051."""
    return given or f"127.0.0.1:{os.environ.get('SERVICE_PORT') or 50051}"


def caller_token(given: str | None) -> str:
    """`--token`, else the TOKEN environment variable (empty when neither is set)."""
    return given or os.environ.get("TOKEN", "")
