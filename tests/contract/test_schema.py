"""gateway/schema.graphql is the code's schema, and every name it shares with the public
contract has the contract's type."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType, build_schema

from gateway.export_schema import SCHEMA_FILE, render

CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "spec" / "api-contract.graphql"
# The spec travels beside the project root; a copy is kept for clones without it.
CONTRACT_COPY = Path(__file__).resolve().parent / "api-contract.graphql"


def _contract_text() -> str:
    return (CONTRACT if CONTRACT.exists() else CONTRACT_COPY).read_text()


def test_exported_schema_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text() == render(), (
        "gateway/schema.graphql drifted: run `python -m gateway.export_schema`"
    )


def test_contract_copy_is_current() -> None:
    if CONTRACT.exists():
        assert CONTRACT_COPY.read_text() == CONTRACT.read_text(), (
            "copy ../shared/spec/api-contract.graphql to tests/contract/"
        )


def _differences(project_sdl: str, contract_sdl: str) -> list[str]:
    project, contract = build_schema(project_sdl), build_schema(contract_sdl)
    problems: list[str] = []
    for name, ctype in contract.type_map.items():
        ptype = project.type_map.get(name)
        if name.startswith("__") or ptype is None:
            continue
        if type(ptype) is not type(ctype):
            problems.append(f"{name} is a {type(ptype).__name__}, contract {type(ctype).__name__}")
            continue
        if isinstance(ctype, GraphQLObjectType | GraphQLInputObjectType):
            for fname, cfield in ctype.fields.items():
                pfield = ptype.fields.get(fname)  # type: ignore[union-attr]
                if pfield is None:
                    continue
                if str(pfield.type) != str(cfield.type):
                    problems.append(f"{name}.{fname}: {pfield.type}, contract {cfield.type}")
                for aname, carg in getattr(cfield, "args", {}).items():
                    parg = pfield.args.get(aname)
                    if parg is not None and str(parg.type) != str(carg.type):
                        problems.append(
                            f"{name}.{fname}({aname}): {parg.type}, contract {carg.type}"
                        )
                    if parg is not None and parg.default_value != carg.default_value:
                        problems.append(f"{name}.{fname}({aname}) default differs")
        if isinstance(ctype, GraphQLEnumType):
            ours = set(ptype.values)  # type: ignore[attr-defined]
            missing = set(ctype.values) - ours
            if missing:
                problems.append(f"enum {name} lacks the contract's values: {sorted(missing)}")
            extra = ours - set(ctype.values) - ADDED_ENUM_VALUES.get(name, set())
            if extra:
                problems.append(f"enum {name} has values the contract lacks: {sorted(extra)}")
    return problems


# Values we add to the contract's enums, on purpose and listed here, so a client's
# exhaustive switch is only ever extended knowingly: the till's error codes (R24, the
# checkout saga, a service missing a setting), the gateway's limits and login throttling,
# and deposits waiting for the provider (R32).
ADDED_ENUM_VALUES: dict[str, set[str]] = {
    "ErrorCode": {
        "EXPIRED",
        "USED_UP",
        "RESERVATION_RELEASED",
        "NOT_CONFIGURED",
        "TOO_MANY_ATTEMPTS",
    },
    "DepositStatus": {"PENDING", "FAILED"},
}


def test_names_shared_with_the_contract_have_its_types() -> None:
    assert _differences(SCHEMA_FILE.read_text(), _contract_text()) == []


def test_a_type_change_is_caught() -> None:
    broken = SCHEMA_FILE.read_text().replace("totalCount: Int!", "totalCount: Int")
    assert any("totalCount" in p for p in _differences(broken, _contract_text()))


def test_tenancy_and_client_operations_of_the_contract_exist() -> None:
    project = build_schema(SCHEMA_FILE.read_text())
    query = project.query_type
    mutation = project.mutation_type
    assert query is not None and mutation is not None
    for name in ["me", "organization", "staff", "clients", "client"]:
        assert name in query.fields, name
    for name in [
        "signUp",
        "login",
        "logout",
        "switchEstablishment",
        "createEstablishment",
        "addMember",
        "setRights",
        "createClient",
        "updateClient",
    ]:
        assert name in mutation.fields, name
