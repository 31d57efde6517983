"""Regenerates generated/ from protos/: python modules, .pyi stubs and typed async gRPC stubs.

Usage: python scripts/generate.py [--check]. With --check nothing is written; the exit code
is 1 when the committed code differs from what the protos produce (CI runs this).
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
GENERATED = ROOT / "generated"


def generate(out: Path) -> None:
    import grpc_tools

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    bin_dir = Path(sys.executable).parent
    # Vendored Google protos (protos/google/) resolve imports only: their Python modules come
    # from googleapis-common-protos.
    protos = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto")
                    if p.relative_to(PROTOS).parts[0] != "google")
    result = subprocess.run(
        [
            sys.executable, "-m", "grpc_tools.protoc",
            f"-I{PROTOS}", f"-I{well_known}",
            f"--python_out={out}", f"--grpc_python_out={out}",
            f"--plugin=protoc-gen-mypy={bin_dir / 'protoc-gen-mypy'}",
            f"--plugin=protoc-gen-mypy_grpc={bin_dir / 'protoc-gen-mypy_grpc'}",
            f"--mypy_out={out}", f"--mypy_grpc_out={out}",
            *protos,
        ],
        cwd=PROTOS, capture_output=True, text=True,
    )
    if result.returncode:  # protoc's plugins chatter on success; show it only on failure
        sys.exit(f"protoc failed:\n{result.stdout}{result.stderr}")
    for package in {p.parent for p in out.rglob("*_pb2.py")}:
        while package != out:
            (package / "__init__.py").touch()
            if package.parent == out:
                # PEP 561: type checkers read an installed package's .pyi stubs only with it,
                # so a service that installs sales-grpc for its client gets typed messages.
                (package / "py.typed").touch()
            package = package.parent


def differences(left: Path, right: Path) -> list[str]:
    found: list[str] = []
    names = {p.relative_to(left) for p in left.rglob("*") if p.is_file()}
    names |= {p.relative_to(right) for p in right.rglob("*") if p.is_file()}
    for name in sorted(names):
        if "__pycache__" in name.parts:
            continue
        a, b = left / name, right / name
        if not (a.exists() and b.exists() and filecmp.cmp(a, b, shallow=False)):
            found.append(str(name))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if generated/ is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        if args.check:
            stale = differences(fresh, GENERATED)
            for name in stale:
                print(f"generated/{name} is stale; run: python scripts/generate.py",
                      file=sys.stderr)
            return 1 if stale else 0
        shutil.rmtree(GENERATED, ignore_errors=True)
        shutil.copytree(fresh, GENERATED)
    print(f"regenerated {GENERATED.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
