"""Write the gateway's schema to gateway/schema.graphql (committed; a test fails on drift).

python -m gateway.export_schema
"""

from __future__ import annotations

from pathlib import Path

from gateway.schema import schema

SCHEMA_FILE = Path(__file__).parent / "schema.graphql"


def render() -> str:
    return schema.as_str().rstrip() + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(render())
    print(f"wrote {SCHEMA_FILE}")
