"""The Kubernetes manifests (deploy/k8s/), the compose file and the Dockerfile, checked for
structure without a cluster: kinds and API versions, selectors that match the pods, probes on
the gRPC health service, ports that are the configured ones, environment variables that
sales_grpc/config.py really reads (and a configuration it accepts), and a non-root,
read-only container. `kubectl kustomize` builds the set when kubectl is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from sales_grpc.api.server import LIVENESS
from sales_grpc.config import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
API_VERSIONS = {
    "Deployment": "apps/v1", "Service": "v1", "ConfigMap": "v1", "Secret": "v1",
    "PodDisruptionBudget": "policy/v1", "HorizontalPodAutoscaler": "autoscaling/v2",
    "Kustomization": "kustomize.config.k8s.io/v1beta1"}
SECRETS = {"SECRET_KEY", "MONGODB_URL", "REDIS_URL", "SMTP_PASSWORD"}


def _documents() -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.setdefault(path.name, []).append(doc)
    return found


DOCS = _documents()
OBJECTS = [doc for name, docs in DOCS.items() if name != "kustomization.yaml" for doc in docs]


def _one(kind: str, name: str | None = None) -> dict[str, Any]:
    matches = [d for d in OBJECTS if d["kind"] == kind
               and (name is None or d["metadata"]["name"] == name)]
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
    return matches[0]


DEPLOYMENT = _one("Deployment")
POD = DEPLOYMENT["spec"]["template"]
CONTAINER = POD["spec"]["containers"][0]
CONFIG = _one("ConfigMap")
SECRET = _one("Secret")
CONFIG_ENV: dict[str, str] = CONFIG["data"]
SECRET_ENV: dict[str, str] = SECRET["stringData"]


def _settings() -> Settings:
    """What the service reads in a pod: the ConfigMap and the Secret in its environment."""
    return Settings.from_env({**CONFIG_ENV, **SECRET_ENV})


def _port(name: str) -> int:
    return next(int(p["containerPort"]) for p in CONTAINER["ports"] if p["name"] == name)


def test_every_object_has_a_known_kind_and_api_version_and_no_namespace() -> None:
    assert {d["kind"] for d in OBJECTS} == set(API_VERSIONS) - {"Kustomization"}
    for doc in [*OBJECTS, *DOCS["kustomization.yaml"]]:
        assert doc["apiVersion"] == API_VERSIONS[doc["kind"]], doc["kind"]
        assert "namespace" not in doc.get("metadata", {}), doc["kind"]
    names = [(d["kind"], d["metadata"]["name"]) for d in OBJECTS]
    assert len(names) == len(set(names))


def test_the_kustomization_applies_everything_but_the_example_secret() -> None:
    kustomization = DOCS["kustomization.yaml"][0]
    assert sorted(kustomization["resources"]) == sorted(
        name for name in DOCS if name not in ("kustomization.yaml", "secret.example.yaml"))
    assert {i["name"] for i in kustomization["images"]} == {CONTAINER["image"].split(":")[0]}


def test_selectors_match_the_pods() -> None:
    selector = DEPLOYMENT["spec"]["selector"]["matchLabels"]
    labels = POD["metadata"]["labels"]
    assert selector and selector.items() <= labels.items()
    services = [d for d in OBJECTS if d["kind"] == "Service"]
    assert len(services) == 2
    for service in services:
        assert service["spec"]["selector"] == selector
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in {p["name"] for p in CONTAINER["ports"]}
    headless = [s for s in services if s["spec"].get("clusterIP") == "None"]
    assert len(headless) == 1 and not headless[0]["spec"].get("publishNotReadyAddresses")
    pdb = _one("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"] == selector
    assert pdb["spec"]["maxUnavailable"] == 1
    for spread in POD["spec"]["topologySpreadConstraints"]:
        assert spread["labelSelector"]["matchLabels"] == selector


def test_the_autoscaler_scales_the_deployment_on_cpu_above_the_disruption_budget() -> None:
    hpa = _one("HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        DEPLOYMENT["apiVersion"], "Deployment", DEPLOYMENT["metadata"]["name"])
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    # CPU utilization is relative to the request, so the container must have one.
    assert CONTAINER["resources"]["requests"]["cpu"]


def test_probes_call_the_grpc_health_service_on_the_serving_port() -> None:
    port = _port("grpc")
    assert port == int(CONFIG_ENV["SERVICE_PORT"]) == _settings().service_port
    readiness = CONTAINER["readinessProbe"]["grpc"]
    assert readiness["port"] == port and readiness.get("service", "") == ""  # the overall one
    for probe in ("livenessProbe", "startupProbe"):
        assert CONTAINER[probe]["grpc"] == {"port": port, "service": LIVENESS}
    for service in _one("Service", "sales-grpc")["spec"]["ports"]:
        assert (service["port"], service["targetPort"]) == (port, "grpc")


def test_metrics_are_exposed_and_annotated_for_prometheus() -> None:
    port = _port("metrics")
    assert port == int(CONFIG_ENV["METRICS_PORT"])
    assert _settings().metrics_port == port  # type: ignore[attr-defined]
    annotations = POD["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(port)
    assert annotations["prometheus.io/path"] == "/metrics"


def _read_by_the_service() -> set[str]:
    """Settings fields (read as their upper-case names by Settings.from_env), and names the
    source reads itself (the OpenTelemetry variables in observability/)."""
    names = {name.upper() for name in Settings.__dataclass_fields__}
    source = "\n".join(p.read_text() for p in (ROOT / "sales_grpc").rglob("*.py"))
    names |= set(re.findall(r"[\"'](OTEL_[A-Z_]+)[\"']", source))
    return names


def _commented_keys(path: Path) -> set[str]:
    return set(re.findall(r"^\s*#\s*([A-Z][A-Z0-9_]+):", path.read_text(), re.MULTILINE))


def test_every_environment_variable_is_one_the_service_reads() -> None:
    known = _read_by_the_service()
    named = {*CONFIG_ENV, *SECRET_ENV, *(e["name"] for e in CONTAINER.get("env", []))}
    named |= _commented_keys(K8S / "configmap.yaml")  # the optional ones shown commented out
    assert named - known == set(), "not read by sales_grpc (a typo?)"
    assert SECRETS <= set(SECRET_ENV) and not SECRETS & set(CONFIG_ENV)
    refs = {next(iter(r.values()))["name"] for r in CONTAINER["envFrom"]}
    assert refs == {CONFIG["metadata"]["name"], SECRET["metadata"]["name"]}


def test_the_configuration_is_one_the_service_accepts() -> None:
    settings = _settings()
    assert settings.environment == "production"
    # The kubelet's SIGKILL comes after the grace period: above the preStop pause, the drain
    # and the 2 + 2 s the server gives its tasks and the relay's last batch.
    pause = int(CONTAINER["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert POD["spec"]["terminationGracePeriodSeconds"] > \
        pause + settings.shutdown_grace_seconds + 4


def test_the_container_runs_as_the_images_non_root_user_with_a_read_only_root() -> None:
    uid = int(re.search(r"--uid (\d+)", (ROOT / "Dockerfile").read_text()).group(1))  # type: ignore[union-attr]
    pod = POD["spec"]["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] == uid != 0
    container = CONTAINER["securityContext"]
    assert container["readOnlyRootFilesystem"] is True
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"]["drop"] == ["ALL"]
    # XLSX exports spool to the temporary directory: a writable emptyDir there.
    mounts = {m["mountPath"]: m["name"] for m in CONTAINER["volumeMounts"]}
    volumes = {v["name"]: v for v in POD["spec"]["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


def _quantity(value: str) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in units.items():
        if value.endswith(suffix):
            return float(value.removesuffix(suffix)) * factor
    return float(value)


def test_resources_have_requests_within_limits() -> None:
    resources = CONTAINER["resources"]
    for name in ("cpu", "memory"):
        assert _quantity(resources["requests"][name]) <= _quantity(resources["limits"][name])


def test_the_dockerfile_exposes_the_serving_and_metrics_ports() -> None:
    exposed = {int(p) for line in (ROOT / "Dockerfile").read_text().splitlines()
               if line.startswith("EXPOSE") for p in line.split()[1:]}
    assert {_port("grpc"), _port("metrics")} <= exposed


def test_compose_serves_metrics_with_variables_the_service_reads() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    sales = compose["services"]["sales"]
    env = sales["environment"]
    assert set(env) <= _read_by_the_service()
    published = {str(p).rsplit(":", 1)[-1] for p in sales["ports"]}
    assert {str(env["SERVICE_PORT"]), str(env["METRICS_PORT"])} <= published


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_kustomize_builds_the_set() -> None:
    built = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True,
                           timeout=60, check=True).stdout
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(built) if d)
    assert kinds == sorted(d["kind"] for d in OBJECTS if d["kind"] != "Secret")
