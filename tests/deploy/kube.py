"""Rendering and validating the Kubernetes manifests of deploy/k8s, offline.

`render` runs `kubectl kustomize` (kustomize is built into kubectl); `check` validates each
rendered document against the schemas of one fixed Kubernetes version that
kubernetes-validate ships (strict: a field the API does not have is an error), and
CloudNativePG's resources, whose CRD is not among them, against the schema written down in
schemas/. A kind with no schema is an error, never skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
SCHEMAS = Path(__file__).parent / "schemas"

# The Kubernetes version the manifests must be valid for: a current release that managed
# clusters still run (every kind used is GA there: autoscaling/v2, policy/v1, gRPC probes).
KUBERNETES_VERSION = "1.32"

# apiVersion -> schema written down here for a CRD (README: "Validation").
CRD_SCHEMAS = {"postgresql.cnpg.io/v1": SCHEMAS / "postgresql.cnpg.io_v1.json"}

INSTALL_HINT = (
    "kubectl is not installed, so the Kubernetes manifests of deploy/k8s cannot be rendered "
    "and validated. Install it (Debian: apt-get install -y kubernetes-client; its kubectl has "
    "kustomize built in) or point SALON_KUBECTL at one."
)

Document = dict[str, Any]


class ManifestError(Exception):
    """A kustomization that does not render, or documents that do not validate."""


def kubectl() -> str:
    """The kubectl to render with: $SALON_KUBECTL, else the one on PATH. Missing: the test
    fails in CI (CI=true) and is skipped, with the reason, elsewhere."""
    found = os.environ.get("SALON_KUBECTL") or shutil.which("kubectl")
    if found:
        return found
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(INSTALL_HINT, pytrace=False)
    pytest.skip(INSTALL_HINT)


def render(directory: Path) -> list[Document]:
    """`kubectl kustomize DIRECTORY`, parsed: one dict per document."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "KUBECONFIG": os.devnull},
    )
    if result.returncode != 0:
        raise ManifestError(f"kubectl kustomize {directory} failed:\n{result.stderr.strip()}")
    documents = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    if not documents:
        raise ManifestError(f"kubectl kustomize {directory} rendered nothing")
    return documents


def describe(document: Mapping[str, Any]) -> str:
    metadata = document.get("metadata") or {}
    name = metadata.get("name", "?") if isinstance(metadata, Mapping) else "?"
    return f"{document.get('apiVersion', '?')} {document.get('kind', '?')} {name}"


@cache
def _crd_validator(api_version: str) -> jsonschema.protocols.Validator:
    schema = json.loads(CRD_SCHEMAS[api_version].read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def problems(document: Mapping[str, Any]) -> list[str]:
    """Why DOCUMENT is not valid (empty when it is)."""
    api_version = document.get("apiVersion")
    if not isinstance(api_version, str) or not isinstance(document.get("kind"), str):
        return [f"{describe(document)}: no apiVersion or kind"]
    if api_version in CRD_SCHEMAS:
        return [
            f"{describe(document)}: {'.'.join(map(str, error.path)) or '<root>'}: {error.message}"
            for error in _crd_validator(api_version).iter_errors(dict(document))
        ]
    try:
        kubernetes_validate.validate(dict(document), KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(map(str, error.path)) or "<root>"
        return [f"{describe(document)}: {where}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [f"{describe(document)}: no schema to validate it against ({error.message})"]
    return []


def check(documents: Iterable[Mapping[str, Any]]) -> None:
    """Raise ManifestError naming every document that does not validate."""
    found = [problem for document in documents for problem in problems(document)]
    if found:
        raise ManifestError(
            f"{len(found)} problem(s) against Kubernetes {KUBERNETES_VERSION}:\n" + "\n".join(found)
        )
