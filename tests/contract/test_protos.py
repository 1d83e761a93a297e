"""The committed generated code is exactly what protos/generate.py makes of the .proto files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos"


def _load_generator():
    spec = importlib.util.spec_from_file_location("protos_generate", PROTOS / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _generated(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.name.endswith(("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"))
    }


def test_committed_protobuf_code_matches_a_regeneration(tmp_path: Path) -> None:
    _load_generator().generate(tmp_path)
    fresh = _generated(tmp_path)
    committed = _generated(PROTOS)
    assert fresh, "nothing was generated"
    assert sorted(committed) == sorted(fresh), "generated files missing or extra"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"regenerate with `python protos/generate.py`: {stale}"


def test_every_service_declares_a_batch_read() -> None:
    for service, rpc in [
        ("clients", "GetClients"),
        ("catalog", "GetServices"),
        ("inventory", "GetStock"),
        ("booking", "GetAppointments"),
        ("payments", "GetReceipts"),
    ]:
        text = next((PROTOS / "salon" / service / "v1").glob(f"{service}.proto")).read_text()
        assert f"rpc {rpc}(" in text and "repeated string" in text
