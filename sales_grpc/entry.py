"""The `sales-grpc` console script. `pip install sales-grpc` installs only the client
(`sales_grpc.client`); the server's commands need the `server` extra, and without it the
command says so instead of failing with a traceback."""

from __future__ import annotations

import sys

INSTALL = "pip install 'sales-grpc[server]'"


def main(argv: list[str] | None = None) -> None:
    try:
        from . import cli
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing.partition(".")[0] in {"sales_grpc", "erp"}:
            raise  # our own code is broken, not an install
        print(f"sales-grpc: the server's dependencies are not installed (no module "
              f"{missing!r}); this installation has the client only. Install the server "
              f"with: {INSTALL}", file=sys.stderr)
        sys.exit(2)
    cli.main(argv)


if __name__ == "__main__":
    main()
