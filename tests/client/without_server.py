"""Runs a script or module as if only the client were installed:
`python without_server.py CONFIG_JSON script.py|-m module [args]`, CONFIG_JSON being
{"blocked": [top-level module names of the server's dependencies], "ours": true|false}.
Importing a blocked module fails as a missing package would, and with "ours" so does any part
of sales_grpc but the client. At exit it prints to stderr `refused: ...` (every import it
refused, as `name<importer`: grpc itself tries grpc_health and grpc_reflection, and goes on
without them) and `loaded server modules: ...` (none, unless one got in before it)."""

from __future__ import annotations

import atexit
import json
import runpy
import sys
from importlib.abc import MetaPathFinder

# The parts of sales_grpc a client-only installation uses.
CLIENT_PARTS = ("sales_grpc.client", "sales_grpc.entry")


def _ours_but_not_client(name: str) -> bool:
    if not name.startswith("sales_grpc."):
        return False
    return not any(name == part or name.startswith(part + ".") for part in CLIENT_PARTS)


def _importer() -> str:
    """The module whose import statement asked for the module being found."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        frame = frame.f_back
    return "?" if frame is None else str(frame.f_globals.get("__name__", "?"))


class RefuseServerModules(MetaPathFinder):
    def __init__(self, blocked: set[str], ours: bool) -> None:
        self.blocked = blocked
        self.ours = ours
        self.refused: list[str] = []

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in self.blocked or (
                self.ours and _ours_but_not_client(fullname)):
            self.refused.append(f"{fullname}<{_importer()}")
            raise ModuleNotFoundError(f"No module named {fullname!r} (refused: server only)",
                                      name=fullname)
        return None


def main() -> None:
    config = json.loads(sys.argv[1])
    blocked = set(config["blocked"])
    finder = RefuseServerModules(blocked, config["ours"])
    sys.meta_path.insert(0, finder)

    @atexit.register
    def report() -> None:
        loaded = sorted(name for name in sys.modules if name.partition(".")[0] in blocked
                        or (config["ours"] and _ours_but_not_client(name)))
        print(f"refused: {', '.join(finder.refused)}", file=sys.stderr)
        print(f"loaded server modules: {', '.join(loaded)}", file=sys.stderr)

    if sys.argv[2] == "-m":
        sys.argv = [sys.argv[3], *sys.argv[4:]]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        sys.argv = sys.argv[2:]
        runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
