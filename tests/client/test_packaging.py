"""`pip install sales-grpc` is the client alone: the core requirements are gRPC and protobuf,
everything the server needs is the `server` extra (which `embedded`, and so `dev`, include),
every install path of the server asks for it, and the client's code imports nothing else."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from .installs import DIST, canonical, core_requirements

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "sales_grpc" / "client"
CORE = {"grpcio", "grpcio-status", "protobuf", "googleapis-common-protos"}
SERVER = {"pymongo", "redis", "pyjwt", "aiosmtplib", "fpdf2", "xlsxwriter", "statsmodels",
          "numpy", "rich", "grpcio-health-checking", "grpcio-reflection"}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_installed_core_requirements_are_the_clients_only():
    core = {canonical(r.name) for r in core_requirements()}
    assert core == CORE
    assert not core & SERVER
    with_server = {canonical(r.split(";")[0].split("[")[0].split("<")[0].split(">")[0])
                   for r in metadata.requires(DIST) or [] if 'extra == "server"' in r}
    assert SERVER <= with_server


def test_pyproject_keeps_the_server_in_its_extra_and_every_server_install_asks_for_it():
    project = pyproject()["project"]
    core = {canonical(r.split("<")[0].split(">")[0].split("=")[0].split("[")[0])
            for r in project["dependencies"]}
    assert core == CORE
    extras = project["optional-dependencies"]
    assert "sales-grpc[server]" in extras["embedded"]
    assert "sales-grpc[embedded]" in extras["dev"]
    assert project["scripts"]["sales-grpc"] == "sales_grpc.entry:main"
    assert "pip install '.[server]'" in (ROOT / "Dockerfile").read_text()
    assert '-e "$ROOT[dev]"' in (ROOT / "scripts" / "bootstrap.sh").read_text()


def test_the_client_code_imports_only_grpc_protobuf_the_generated_code_and_itself():
    allowed = {"grpc", "google", "erp"} | set(sys.stdlib_module_names)
    for path in CLIENT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue  # relative imports stay inside sales_grpc.client
            for name in names:
                top = name.partition(".")[0]
                assert top in allowed, f"{path.name} imports {name}"
                if top == "google":
                    assert name.startswith(("google.protobuf", "google.rpc")), name


def test_the_package_root_imports_nothing_of_the_server():
    tree = ast.parse((ROOT / "sales_grpc" / "__init__.py").read_text())
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


def test_the_generated_package_is_marked_typed_for_consumers():
    assert (ROOT / "generated" / "erp" / "py.typed").exists()
    assert (ROOT / "sales_grpc" / "py.typed").exists()
