"""deploy/k8s: every overlay (and the base) rendered offline with `kubectl kustomize`, every
document validated against the Kubernetes schemas (tests/deploy/kube.py), then what the
schemas cannot say: each part has its Deployment, Service, HorizontalPodAutoscaler and
PodDisruptionBudget; every reference (ConfigMap, Secret, Service, Deployment, database role)
resolves; every pod is hardened; the configuration names settings the parts read; NATS is a
three-node JetStream cluster that syncs every write. And the check fails on a broken
manifest."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.settings import GatewaySettings
from launcher.cli import PARTS
from launcher.nats_server import nats_server_binary
from launcher.stack import SERVICES
from services.booking.settings import MailerSettings
from services.common import tracing
from services.common.settings import ServiceSettings
from services.payments.settings import PaymentsSettings
from tests.deploy.kube import K8S, Document, ManifestError, check, render
from tests.deploy.parts import KNOWN_SETTINGS

OVERLAYS = sorted(
    path.name for path in (K8S / "overlays").iterdir() if (path / "kustomization.yaml").is_file()
)
TARGETS = ["base", *(f"overlays/{name}" for name in OVERLAYS)]

# Other variables the manifests set on purpose.
OTHER_VARIABLES = {
    "FORWARDED_ALLOW_IPS": "uvicorn (the gateway): which proxies' X-Forwarded-For to believe",
    "DB_PASSWORD": "the database password, spliced into SALON_DATABASE_URL",
}
# Set for the day the parts read them (deploy/README.md says what is missing).
PENDING_SETTINGS: dict[str, str] = {}
SERVICE_PORT = 50051


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Document]]:
    return {target: render(K8S / target) for target in TARGETS}


def of_kind(documents: list[Document], kind: str) -> dict[str, Document]:
    return {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == kind}


def workloads(documents: list[Document]) -> dict[str, Document]:
    return {**of_kind(documents, "Deployment"), **of_kind(documents, "StatefulSet")}


def containers(workload: Document) -> list[dict[str, Any]]:
    return list(workload["spec"]["template"]["spec"]["containers"])


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def env_of(container: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container.get("env", [])}


# --- the schemas ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_every_document_validates_against_the_kubernetes_schemas(
    rendered: dict[str, list[Document]], target: str
) -> None:
    check(rendered[target])


BROKEN = {
    "unknown field": """
apiVersion: apps/v1
kind: Deployment
metadata: {name: clients}
spec:
  selector: {matchLabels: {app: clients}}
  template:
    metadata: {labels: {app: clients}}
    spec:
      containers: [{name: clients, image: salon, imagePullPolicyy: Always}]
""",
    "wrong type": """
apiVersion: apps/v1
kind: Deployment
metadata: {name: clients}
spec:
  replicas: two
  selector: {matchLabels: {app: clients}}
  template:
    metadata: {labels: {app: clients}}
    spec:
      containers: [{name: clients, image: salon}]
""",
    "gRPC probe without a port": """
apiVersion: v1
kind: Pod
metadata: {name: clients}
spec:
  containers:
    - name: clients
      image: salon
      readinessProbe: {grpc: {service: ""}}
""",
    "autoscaling/v1 field in a v2 HorizontalPodAutoscaler": """
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: clients}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: clients}
  maxReplicas: 3
  targetCPUUtilizationPercentage: 70
""",
    "kind without a schema": """
apiVersion: example.com/v1
kind: Widget
metadata: {name: clients}
spec: {}
""",
    "CloudNativePG Cluster with a misspelt field": """
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: salon-pg}
spec:
  instance: 3
  storage: {size: 1Gi}
""",
    "CloudNativePG Database without an owner": """
apiVersion: postgresql.cnpg.io/v1
kind: Database
metadata: {name: salon-clients}
spec:
  cluster: {name: salon-pg}
  name: clients
""",
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_document_fails_the_check(case: str) -> None:
    with pytest.raises(ManifestError):
        check([yaml.safe_load(BROKEN[case])])


def test_a_broken_manifest_in_an_overlay_fails_the_check(tmp_path: Path) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    target = copy / "overlays" / OVERLAYS[0]

    def autoscalers() -> list[Document]:
        return [doc for doc in render(target) if doc["kind"] == "HorizontalPodAutoscaler"]

    check(autoscalers())  # the copy is as good as the original

    gateway = copy / "base" / "gateway.yaml"
    text = gateway.read_text()
    assert "averageUtilization: 70" in text
    gateway.write_text(text.replace("averageUtilization: 70", "averageUtilization: most", 1))
    with pytest.raises(ManifestError, match="HorizontalPodAutoscaler gateway"):
        check(autoscalers())


def test_a_kustomization_that_does_not_render_fails_the_check(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    with pytest.raises(ManifestError, match="kubectl kustomize"):
        render(tmp_path)


# --- what the schemas cannot say ------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_every_part_has_a_deployment_service_autoscaler_and_disruption_budget(
    rendered: dict[str, list[Document]], target: str
) -> None:
    documents = rendered[target]
    deployments = of_kind(documents, "Deployment")
    assert sorted(deployments) == sorted(PARTS)
    services = of_kind(documents, "Service")
    autoscalers = of_kind(documents, "HorizontalPodAutoscaler")
    budgets = of_kind(documents, "PodDisruptionBudget")
    for part, deployment in deployments.items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        (container,) = containers(deployment)
        assert container["args"] == [part], "the image runs `salon run <part>`"
        assert (
            container["image"]
            == deployments["gateway"]["spec"]["template"]["spec"]["containers"][0]["image"]
        ), "one image for every part"
        assert "replicas" not in deployment["spec"], f"{part}: the autoscaler owns the count"

        service = services[part]
        assert selects(service["spec"]["selector"], pod_labels)
        port_names = {port["name"] for port in container["ports"]}
        assert {port["targetPort"] for port in service["spec"]["ports"]} <= port_names

        target_ref = autoscalers[part]["spec"]["scaleTargetRef"]
        assert (target_ref["kind"], target_ref["name"]) == ("Deployment", part)
        assert autoscalers[part]["spec"]["minReplicas"] >= 2, f"{part}: one pod is no HA"

        assert selects(budgets[part]["spec"]["selector"]["matchLabels"], pod_labels)
        chosen = [
            name
            for name, other in workloads(documents).items()
            if selects(
                budgets[part]["spec"]["selector"]["matchLabels"],
                other["spec"]["template"]["metadata"]["labels"],
            )
        ]
        assert chosen == [part], f"the budget of {part} covers {chosen}"


@pytest.mark.parametrize("target", TARGETS)
def test_services_are_probed_by_grpc_health_and_the_gateway_over_http(
    rendered: dict[str, list[Document]], target: str
) -> None:
    deployments = of_kind(rendered[target], "Deployment")
    for part in SERVICES:
        (container,) = containers(deployments[part])
        assert [p["containerPort"] for p in container["ports"]] == [SERVICE_PORT]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"] == {"port": SERVICE_PORT}, f"{part} {probe}"
    (gateway,) = containers(deployments["gateway"])
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"


@pytest.mark.parametrize("target", TARGETS)
def test_every_pod_runs_hardened_with_requests_and_limits(
    rendered: dict[str, list[Document]], target: str
) -> None:
    found = workloads(rendered[target])
    assert "nats" in found
    for name, workload in found.items():
        pod = workload["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] > 0, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in containers(workload):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) >= {"cpu", "memory"}, name
            assert "readinessProbe" in container and "livenessProbe" in container, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_reference_resolves(rendered: dict[str, list[Document]], overlay: str) -> None:
    documents = rendered[f"overlays/{overlay}"]
    config_maps = of_kind(documents, "ConfigMap")
    secrets = of_kind(documents, "Secret")
    services = of_kind(documents, "Service")
    for name, workload in workloads(documents).items():
        pod = workload["spec"]["template"]["spec"]
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, name
        for container in containers(workload):
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps, name
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref is None:
                    continue
                assert ref["name"] in secrets, f"{name}: Secret {ref['name']}"
                if not ref.get("optional"):
                    keys = {**secrets[ref["name"]].get("data", {})}
                    keys.update(secrets[ref["name"]].get("stringData", {}))
                    assert ref["key"] in keys, f"{name}: {ref['name']}/{ref['key']}"
    for ingress in of_kind(documents, "Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                ports = {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
                assert backend["port"]["name"] in ports

    # PostgreSQL: a role and a database per part, each role's password the part's Secret.
    (cluster,) = of_kind(documents, "Cluster").values()
    roles = {role["name"]: role for role in cluster["spec"]["managed"]["roles"]}
    assert sorted(roles) == sorted(PARTS)
    for part, role in roles.items():
        assert role["login"] is True and role["superuser"] is False, part
        assert role["bypassrls"] is False, f"{part}: row-level security must apply to it"
        secret = secrets[role["passwordSecret"]["name"]]
        assert secret["type"] == "kubernetes.io/basic-auth"
        assert set(secret["data"]) >= {"username", "password"}
    databases = {doc["spec"]["name"]: doc for doc in of_kind(documents, "Database").values()}
    assert sorted(databases) == sorted(PARTS)
    for part, database in databases.items():
        assert database["spec"]["owner"] == part
        assert database["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
        deployment = of_kind(documents, "Deployment")[part]
        (container,) = containers(deployment)
        env = env_of(container)
        password_secret = env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"]
        assert password_secret == roles[part]["passwordSecret"]["name"]
        assert env["SALON_DATABASE_URL"]["value"] == (
            f"postgresql+asyncpg://{part}:$(DB_PASSWORD)@{cluster['metadata']['name']}-rw:5432/{part}"
        )


def _variables(documents: list[Document], part: str) -> dict[str, str]:
    """A part's environment as Kubernetes would give it (secrets as stand-ins)."""
    (container,) = containers(of_kind(documents, "Deployment")[part])
    config_maps = of_kind(documents, "ConfigMap")
    variables: dict[str, str] = {}
    for source in container.get("envFrom", []):
        variables.update(config_maps[source["configMapRef"]["name"]]["data"])
    for name, entry in env_of(container).items():
        if "value" in entry:
            variables[name] = re.sub(
                r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), entry["value"]
            )
        elif name == "SALON_PAYMENTS_KEY":
            variables[name] = "A" * 43 + "="
        else:
            variables[name] = "s3cret-" + "x" * 40
    return variables


@pytest.mark.parametrize("target", TARGETS)
def test_the_configuration_names_settings_the_parts_read(
    rendered: dict[str, list[Document]], target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not KNOWN_SETTINGS & set(PENDING_SETTINGS), (
        "now a setting: remove it from PENDING_SETTINGS"
    )
    documents = rendered[target]
    for part in PARTS:
        variables = _variables(documents, part)
        unknown = set(variables) - KNOWN_SETTINGS - set(OTHER_VARIABLES) - set(PENDING_SETTINGS)
        assert not unknown, f"{part}: no part reads {sorted(unknown)}"
        for name in list(os.environ):
            if name.startswith("SALON_"):
                monkeypatch.delenv(name)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        settings = GatewaySettings() if part == "gateway" else ServiceSettings()
        assert settings.production
        assert settings.scope_secrets()
        assert settings.database_url.startswith("postgresql+asyncpg://")
        if part == "booking":
            MailerSettings()
        if part == "payments":
            PaymentsSettings()
        for peer in SERVICES:
            assert settings.backend_addr(peer) == f"{peer}:{SERVICE_PORT}"
        if isinstance(settings, GatewaySettings):
            assert (settings.host, settings.port) == ("0.0.0.0", 8000)
        else:
            assert (settings.grpc_host, settings.grpc_port) == ("0.0.0.0", SERVICE_PORT)


@pytest.mark.parametrize("target", TARGETS)
def test_every_part_names_itself_in_traces_and_an_overlay_sets_the_endpoint(
    rendered: dict[str, list[Document]], target: str
) -> None:
    for part in PARTS:
        variables = _variables(rendered[target], part)
        assert tracing.service_name(part, variables) == f"salon-{part}"
        assert tracing.protocol_of(variables) == "http/protobuf"
        # The base exports nothing (no endpoint); the production overlay names a collector.
        assert tracing.endpoint_configured(variables) is (target != "base")


# --- NATS ---------------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_nats_is_a_three_node_jetstream_cluster_that_syncs_every_write(
    rendered: dict[str, list[Document]], target: str, tmp_path: Path
) -> None:
    documents = rendered[target]
    nats = of_kind(documents, "StatefulSet")["nats"]
    assert nats["spec"]["replicas"] == 3
    headless = of_kind(documents, "Service")[nats["spec"]["serviceName"]]
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    (config_map,) = [
        of_kind(documents, "ConfigMap")[volume["configMap"]["name"]]
        for volume in nats["spec"]["template"]["spec"]["volumes"]
        if "configMap" in volume
    ]
    config = config_map["data"]["nats.conf"]
    jetstream = re.search(r"jetstream\s*\{(.*?)\}", config, re.S)
    assert jetstream and re.search(r"^\s*sync_interval:\s*always\s*$", jetstream.group(1), re.M)
    routes = set(re.findall(r"nats://([\w.-]+):6222", config))
    service = nats["spec"]["serviceName"]
    assert routes == {f"{nats['metadata']['name']}-{i}.{service}" for i in range(3)}
    assert "server_name: $SERVER_NAME" in config
    (container,) = containers(nats)
    assert env_of(container)["SERVER_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == (
        "metadata.name"
    )
    # The server itself accepts the configuration.
    path = tmp_path / "nats.conf"
    path.write_text(config)
    result = subprocess.run(
        [nats_server_binary(), "--config", str(path), "-t"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "SERVER_NAME": "nats-0"},
    )
    assert result.returncode == 0, result.stderr
    # The parts connect through the client Service, and want the stream on all three.
    (salon_config,) = [
        doc
        for doc in of_kind(documents, "ConfigMap").values()
        if "SALON_NATS_URL" in doc.get("data", {})
    ]
    assert salon_config["data"]["SALON_NATS_URL"] == "nats://nats:4222"
    client = of_kind(documents, "Service")["nats"]
    assert selects(client["spec"]["selector"], nats["spec"]["template"]["metadata"]["labels"])
    assert [port["port"] for port in client["spec"]["ports"]] == [4222]
    assert salon_config["data"]["SALON_EVENTS_REPLICAS"] == "3"


@pytest.mark.parametrize("target", TARGETS)
def test_network_policies_let_the_gateway_and_services_through_and_no_one_else(
    rendered: dict[str, list[Document]], target: str
) -> None:
    documents = rendered[target]
    pods = {
        name: (
            workload["spec"]["template"]["metadata"]["labels"],
            {p["containerPort"] for c in containers(workload) for p in c.get("ports", [])},
        )
        for name, workload in workloads(documents).items()
    }

    def allowed(source: str, destination: str, port: int) -> bool:
        """Whether SOURCE's pods may open PORT on DESTINATION's pods (same namespace)."""
        labels, _ports = pods[destination]
        policies = [
            policy
            for policy in of_kind(documents, "NetworkPolicy").values()
            if selects(policy["spec"]["podSelector"].get("matchLabels", {}), labels)
        ]
        if not policies:
            return True  # no policy selects these pods: everything may connect
        return any(
            any(
                selects(peer["podSelector"].get("matchLabels", {}), pods[source][0])
                for peer in rule.get("from", [])
            )
            and any(entry["port"] == port for entry in rule.get("ports", []))
            for policy in policies
            for rule in policy["spec"].get("ingress", [])
        )

    for policy in of_kind(documents, "NetworkPolicy").values():
        chosen = [
            name
            for name, (labels, _ports) in pods.items()
            if selects(policy["spec"]["podSelector"]["matchLabels"], labels)
        ]
        assert chosen, f"NetworkPolicy {policy['metadata']['name']} selects no pod"
        for rule in policy["spec"]["ingress"]:
            for entry in rule["ports"]:
                assert any(entry["port"] in pods[name][1] for name in chosen), entry
    for caller in PARTS:
        for service in SERVICES:
            assert allowed(caller, service, SERVICE_PORT), f"{caller} -> {service}"
        assert allowed(caller, "nats", 4222), f"{caller} -> nats"
    assert allowed("nats", "nats", 6222), "the cluster routes"
    # A pod that is not salon's (anything else in the namespace or cluster) is refused.
    pods["stranger"] = ({"app.kubernetes.io/name": "stranger"}, set())
    for destination, port in [*((s, SERVICE_PORT) for s in SERVICES), ("nats", 4222)]:
        assert not allowed("stranger", destination, port), f"stranger -> {destination}"
    assert allowed("stranger", "gateway", 8000), "the ingress controller reaches the gateway"
