"""Regenerate the Python code of every .proto under protos/ (committed next to the .proto).

    python protos/generate.py [OUT_DIR]

Folders mirror the Python package (`protos/salon/clients/v1/clients.proto` is
`package salon.clients.v1`), so protoc's absolute imports work without rewriting.
tests/contract/test_protos.py regenerates into a temporary folder and fails on any diff.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parent


def proto_files(root: Path = PROTO_ROOT) -> list[Path]:
    return sorted(p for p in root.rglob("*.proto"))


def generate(out_dir: Path = PROTO_ROOT) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    well_known = str(resources.files("grpc_tools") / "_proto")
    files = [str(p.relative_to(PROTO_ROOT)) for p in proto_files()]
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *files,
    ]
    code = protoc.main(args)
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")
    # Every generated folder is a regular package, so setuptools and mypy find it.
    for folder in {out_dir / Path(f).parent for f in files}:
        while folder != out_dir:
            (folder / "__init__.py").touch()
            folder = folder.parent


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else PROTO_ROOT)
