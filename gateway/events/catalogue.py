"""Write docs/events.md, the catalogue of every event type, from the protos and the code.

    python -m gateway.events.catalogue           # (re)write docs/events.md
    python -m gateway.events.catalogue --check   # exit 1 when docs/events.md is stale

For each event type: its name and version, its subject, who publishes it, its protobuf
message with the fields (and the comments of the .proto files), and an example of the JSON
a GraphQL subscription delivers as `Event.data`. The sources:

- the messages and their comments: every ``protos/salon/<service>/v<N>/events.proto``,
  compiled with source information (grpc_tools, a dev dependency, as protos/generate.py);
- the event types: the ``EventType(...)`` definitions in services/ and gateway/, and the
  ``record_event(...)`` calls that publish them (read with ``ast``, nothing imported: the
  gateway may not import the services); a call's ``establishment_id=None`` makes an
  organization-level subject.

A type published in the code without its message, or a ``ce-type`` comment in a .proto
that names another message than the naming rule (gateway/events/registry.py) gives, stops
the generator: the catalogue never silently leaves an event out.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from gateway.events import registry
from gateway.events.registry import AnyDescriptor, AnyEnumDescriptor, AnyFieldDescriptor
from services.common.events import EventType

ROOT = Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos"
DOCS_FILE = ROOT / "docs" / "events.md"
CODE_FOLDERS = ("services", "gateway")
COMMAND = "python -m gateway.events.catalogue"
TYPE_NAME = re.compile(r"\bsalon\.[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+\.v[0-9]+\b")


class CatalogueError(Exception):
    pass


# ------------------------------------------------------------------ the protos


@dataclass
class Protos:
    """Comments by full name ("pkg.Message", "pkg.Message.field", "pkg.Enum.VALUE") and the
    messages of each events.proto, in file order."""

    comments: dict[str, str] = field(default_factory=dict)
    event_files: dict[str, list[str]] = field(default_factory=dict)


def _comment(location: descriptor_pb2.SourceCodeInfo.Location) -> str:
    text = "\n".join(
        part for part in (location.leading_comments, location.trailing_comments) if part.strip()
    )
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def read_protos() -> Protos:
    from grpc_tools import protoc  # dev dependency, as for protos/generate.py

    files = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "descriptors.pb"
        code = protoc.main(
            [
                "grpc_tools.protoc",
                f"-I{PROTOS}",
                f"-I{resources.files('grpc_tools') / '_proto'}",
                f"--descriptor_set_out={out}",
                "--include_source_info",
                *files,
            ]
        )
        if code != 0:
            raise CatalogueError(f"protoc failed with exit code {code}")
        descriptors = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    protos = Protos()
    for file in descriptors.file:
        names = _names(file)
        for location in file.source_code_info.location:
            name = names.get(tuple(location.path))
            text = _comment(location)
            if name and text:
                protos.comments[name] = text
        if Path(file.name).name == "events.proto":
            protos.event_files[file.name] = [f"{file.package}.{m.name}" for m in file.message_type]
    return protos


def _names(file: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    """Source-info paths to full names (4: message_type, 2: field, 3: nested_type,
    5: enum_type, 2 in an enum: value; descriptor.proto's field numbers)."""
    names: dict[tuple[int, ...], str] = {}

    def enum(path: tuple[int, ...], scope: str, e: descriptor_pb2.EnumDescriptorProto) -> None:
        names[path] = f"{scope}.{e.name}"
        for i, value in enumerate(e.value):
            names[(*path, 2, i)] = f"{scope}.{e.name}.{value.name}"

    def message(path: tuple[int, ...], scope: str, m: descriptor_pb2.DescriptorProto) -> None:
        full = f"{scope}.{m.name}"
        names[path] = full
        for i, f in enumerate(m.field):
            names[(*path, 2, i)] = f"{full}.{f.name}"
        for i, nested in enumerate(m.nested_type):
            message((*path, 3, i), full, nested)
        for i, e in enumerate(m.enum_type):
            enum((*path, 4, i), full, e)

    for i, m in enumerate(file.message_type):
        message((4, i), file.package, m)
    for i, e in enumerate(file.enum_type):
        enum((5, i), file.package, e)
    return names


# ------------------------------------------------------------------ the code


@dataclass
class CodeType:
    """An event type as the code knows it."""

    event_type: EventType
    publishers: set[str] = field(default_factory=set)  # parts: "booking", "gateway"
    levels: set[str] = field(default_factory=set)  # "establishment", "org"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if parts[0] == "services" else parts[0]


def _event_type(node: ast.AST) -> EventType | None:
    """`EventType("booking", "appointment", "booked"[, version])` written out."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name != "EventType":
        return None
    names = ("service", "entity", "verb", "version")
    given = {
        **{n: a for n, a in zip(names, node.args, strict=False)},
        **{k.arg: k.value for k in node.keywords if k.arg},
    }
    values = {n: a.value for n, a in given.items() if isinstance(a, ast.Constant)}
    texts = [values.get(n) for n in names[:3]]
    version = values.get("version", 1)
    strings = [t for t in texts if isinstance(t, str)]
    if len(values) != len(given) or len(strings) != 3 or not isinstance(version, int):
        raise CatalogueError(f"EventType(...) not written out: {ast.unparse(node)}")
    return EventType(strings[0], strings[1], strings[2], version)


def _code_files() -> Iterator[Path]:
    for folder in CODE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts and "__pycache__" not in path.parts:
                yield path


def read_code() -> dict[str, CodeType]:
    trees = {_module_name(p): (p, ast.parse(p.read_text(), str(p))) for p in _code_files()}
    defined: dict[str, dict[str, EventType]] = {}
    imported: dict[str, dict[str, tuple[str, str]]] = {}
    for module, (_path, tree) in trees.items():
        defined[module], imported[module] = {}, {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and (found := _event_type(node.value)):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        defined[module][target.id] = found
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    imported[module][alias.asname or alias.name] = (node.module, alias.name)

    def resolve(module: str, name: str, hops: int = 0) -> EventType | None:
        if name in defined.get(module, {}):
            return defined[module][name]
        source = imported.get(module, {}).get(name)
        if source is None or hops > 10:
            return None
        return resolve(*source, hops=hops + 1)

    types: dict[str, CodeType] = {}

    def known(event_type: EventType) -> CodeType:
        return types.setdefault(event_type.name, CodeType(event_type))

    for module in defined:
        for defined_type in defined[module].values():
            known(defined_type)
    for module, (path, tree) in trees.items():
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name != "record_event":
                continue
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            keywords = {k.arg: k.value for k in call.keywords}
            arg = call.args[2] if len(call.args) > 2 else keywords.get("event_type")
            event_type: EventType | None = _event_type(arg) if arg is not None else None
            if event_type is None and isinstance(arg, ast.Name):
                event_type = resolve(module, arg.id)
            if event_type is None:
                raise CatalogueError(f"{where}: record_event with an event type not found")
            establishment = keywords.get("establishment_id")
            org_level = isinstance(establishment, ast.Constant) and establishment.value is None
            entry = known(event_type)
            entry.publishers.add(_part(module))
            entry.levels.add("org" if org_level else "establishment")
    return types


# ------------------------------------------------------------------ examples

MONEY = {"price", "amount", "total", "balance", "unit_price", "initial_amount"}
STRINGS = {
    "first_name": "Ann",
    "last_name": "Peeters",
    "email": "ann.peeters@example.com",
    "phone": "+32470123456",
    "timezone": "Europe/Brussels",
    "opens": "09:00",
    "closes": "18:00",
    "category": "Hair",
    "brand": "Davines",
    "barcode": "5412345678901",
    "code": "K7QM-4XRT-9PWD-H2CN",
    "number": "000042",
    "serial": "WL-2049-1187",
    "provider": "mollie",
    "checkout_url": "https://www.mollie.com/checkout/select-method/7UhSN1zuXS",
    "valid_until": "2027-06-30",
    "changed_fields": "price",
    "customized_fields": "price",
}
NAMES = {
    "Service": "Cut and blow-dry",
    "Product": "Repair shampoo 250 ml",
    "Menu": "Bridal package",
    "PrepaidSubscription": "10 blow-dries",
    "Terminal": "Front desk",
    "OrganizationCreated": "Salon Lena",
    "EstablishmentCreated": "Antwerpen",
}
INTS = {
    "duration_minutes": 45,
    "points": 45,
    "visits": 10,
    "visits_left": 9,
    "quantity": 1,
    "delta": 6,
    "weekday": 1,
}
# Left out of examples: a created service is not deleted.
UNSET = {"deleted_at"}
TIMESTAMP = "google.protobuf.Timestamp"
MAX_DEPTH = 4
START, END, TIME = "2026-11-03T09:30:00Z", "2026-11-03T10:15:00Z", "2026-11-02T16:05:00Z"
# Ids of one entity are the same wherever they appear in an example.
ID_KEYS = {"prepaid_subscription": "subscription", "stock_movement": "movement"}


def _id(key: str) -> str:
    key = "establishment" if key.endswith("establishment") else ID_KEYS.get(key, key)
    return hashlib.sha256(f"example {key}".encode()).hexdigest()[:32]


def _string(message: AnyDescriptor, f: AnyFieldDescriptor) -> str:
    if f.name == "id":
        return _id(registry.snake(message.name))
    if f.name.endswith("_id") or f.name.endswith("_ids"):
        return _id(f.name.rsplit("_id", 1)[0])
    if f.name in MONEY:
        return "45.00"
    if f.name in ("name", "description"):
        return NAMES.get(message.name, "Cut and blow-dry")
    if f.name == "slug":
        return re.sub(r"[^a-z0-9]+", "-", NAMES.get(message.name, "example").lower())
    return STRINGS.get(f.name, f"example {f.name.replace('_', ' ')}")


def example(cls: type[Message], verb: str = "") -> Message:
    """A message of that class with every field set to a plausible value; an enum takes the
    value named like the event's verb where there is one (a cancelled appointment's status
    is CANCELLED)."""
    msg = cls()
    _fill(msg, 0, verb.upper())
    return msg


def _fill(msg: Message, depth: int, verb: str) -> None:
    descriptor = msg.DESCRIPTOR
    for f in descriptor.fields:
        if f.name in UNSET:
            continue
        if f.message_type is not None:
            if depth >= MAX_DEPTH:
                continue
            container = getattr(msg, f.name)
            target = container.add() if f.is_repeated else container
            if f.message_type.full_name == TIMESTAMP:
                target.FromJsonString({"start": START, "end": END}.get(f.name, TIME))
            else:
                _fill(target, depth + 1, verb)
            continue
        value = _scalar(descriptor, f, verb)
        if value is None:
            continue
        if f.is_repeated:
            getattr(msg, f.name).append(value)
        else:
            setattr(msg, f.name, value)


def _scalar(message: AnyDescriptor, f: AnyFieldDescriptor, verb: str) -> object:
    if f.enum_type is not None:
        values = [v for v in f.enum_type.values if v.number != 0]
        named = [v for v in values if verb and v.name.endswith(f"_{verb}")]
        return (named or values)[0].number if values else 0
    if f.type == FieldDescriptor.TYPE_STRING:
        return _string(message, f)
    if f.type == FieldDescriptor.TYPE_BOOL:
        return True
    if f.type == FieldDescriptor.TYPE_BYTES:
        return None
    if f.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return 1.5
    return INTS.get(f.name, 1)


# ------------------------------------------------------------------ rendering

SCALARS = {
    getattr(FieldDescriptor, name): name.removeprefix("TYPE_").lower()
    for name in dir(FieldDescriptor)
    if name.startswith("TYPE_") and name not in ("TYPE_MESSAGE", "TYPE_ENUM", "TYPE_GROUP")
}
WELL_KNOWN = {"google.protobuf.Timestamp": "RFC 3339 time in JSON"}


def _json(message: Message) -> str:
    return json.dumps(registry.to_dict(message), indent=2, ensure_ascii=False)


def anchor(title: str) -> str:
    """The anchor a Markdown renderer (GitHub's) gives a heading."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def _link(full_name: str) -> str:
    if full_name in WELL_KNOWN:
        return f"`{full_name}` ({WELL_KNOWN[full_name]})"
    return f"[`{full_name}`](#{anchor(full_name)})"


def _type(f: AnyFieldDescriptor) -> str:
    if f.message_type is not None:
        text = _link(f.message_type.full_name)
    elif f.enum_type is not None:
        text = _link(f.enum_type.full_name)
    else:
        text = f"`{SCALARS.get(f.type, 'unknown')}`"
    if f.is_repeated:
        return f"repeated {text}"
    if f.has_presence and f.message_type is None:
        return f"optional {text}"
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _fields(descriptor: AnyDescriptor, comments: dict[str, str]) -> list[str]:
    if not descriptor.fields:
        return ["(no fields)", ""]
    lines = ["| field | JSON name | type | notes |", "|---|---|---|---|"]
    for f in descriptor.fields:
        note = comments.get(f"{descriptor.full_name}.{f.name}", "")
        lines.append(f"| `{f.name}` | `{f.json_name}` | {_type(f)} | {_cell(note)} |")
    return [*lines, ""]


@dataclass
class Used:
    """The messages and enums the events use, by full name."""

    messages: dict[str, AnyDescriptor] = field(default_factory=dict)
    enums: dict[str, AnyEnumDescriptor] = field(default_factory=dict)

    def add(self, descriptor: AnyDescriptor) -> None:
        for f in descriptor.fields:
            if f.enum_type is not None:
                self.enums.setdefault(f.enum_type.full_name, f.enum_type)
            message = f.message_type
            if (
                message is not None
                and message.full_name not in WELL_KNOWN
                and message.full_name not in self.messages
            ):
                self.messages[message.full_name] = message
                self.add(message)


def _subject(code: CodeType | None, event_type: EventType) -> str:
    levels = code.levels if code else set()
    where = {
        frozenset({"establishment"}): "<establishment>",
        frozenset({"org"}): "org",
    }.get(frozenset(levels), "<establishment|org>")
    tail = f"{event_type.service}.{event_type.entity}.{event_type.verb}"
    return f"salon.<organization>.{where}.{tail}"


def _message_doc(full_name: str, comments: dict[str, str]) -> str:
    """A message's comment without the ce-type names (they are the heading)."""
    text = TYPE_NAME.sub("", comments.get(full_name, ""))
    text = re.sub(r"\bce-type\b[\s/]*", "", text).strip(" /")
    return text


@dataclass
class Entry:
    event_type: EventType
    cls: type[Message]
    file: str
    code: CodeType | None


def entries(protos: Protos, code: dict[str, CodeType]) -> tuple[list[Entry], list[str]]:
    """The catalogue's event types, and the event messages no type names."""
    pool = registry.event_messages()
    files = {name: file for file, names in protos.event_files.items() for name in names}
    named: set[str] = set()
    for full_name, file in files.items():
        for type_name in TYPE_NAME.findall(protos.comments.get(full_name, "")):
            expected = registry.message_name(EventType.parse(type_name))
            if files.get(expected) != file:
                raise CatalogueError(
                    f"{file}: {full_name}'s comment names {type_name}, whose message by the "
                    f"naming rule ({expected}) is not in that file"
                )
            named.add(type_name)
    out: list[Entry] = []
    for type_name in sorted(set(code) | named):
        event_type = EventType.parse(type_name)
        full_name = registry.message_name(event_type)
        cls = pool.get(full_name)
        if cls is None or full_name not in files:
            raise CatalogueError(
                f"{type_name} is in the code but its message {full_name} is in no events.proto"
            )
        out.append(Entry(event_type, cls, files[full_name], code.get(type_name)))
    covered = {e.cls.DESCRIPTOR.full_name for e in out}
    return out, sorted(set(files) - covered)


def render(protos: Protos | None = None, code: dict[str, CodeType] | None = None) -> str:
    protos = protos or read_protos()
    code = read_code() if code is None else code
    catalogue, unnamed = entries(protos, code)
    lines = [
        "# Event catalogue",
        "",
        f"Generated by `{COMMAND}` from `protos/salon/*/v*/events.proto` and the",
        "`EventType` definitions and `record_event` calls in the code; do not edit by hand",
        "(`tests/contract/test_events_catalogue.py` fails when this file is stale).",
        "",
        "Every change is published once, after its transaction commits, to the JetStream",
        "stream `SALON` (core NATS subscribers on the subject see it too):",
        "",
        "- **subject** `salon.<organization>.<establishment|org>.<service>.<entity>.<verb>`:",
        "  `org` for a change of what the whole organization shares. A partner of one",
        "  organization subscribes to `salon.<its organization id>.>`.",
        "- **headers** (CloudEvents attributes): `ce-specversion` (`1.0`), `ce-id` (unique, also",
        "  `Nats-Msg-Id`), `ce-type` (the event type below), `ce-source` (`/salon/<service>`),",
        "  `ce-time` (ISO 8601), `ce-organizationid`, `ce-establishmentid` (absent at `org`",
        "  level), `ce-actorid` (the user; absent when none acted), `content-type`",
        "  (`application/protobuf`); and `traceparent` (W3C trace context) when the change was",
        "  traced (OpenTelemetry on in the publishing part).",
        "- **body**: the protobuf message of the type, binary.",
        "- **version**: the `.v<N>` of the type. A change that is not backwards compatible",
        "  publishes a new version (`.v2`, package `salon.<service>.v2`), side by side for a time.",
        "",
        "The GraphQL subscription `events(types: [String!])` (WebSocket, `graphql-transport-ws`)",
        "delivers the same events as `Event { id type establishmentId occurredAt data }`: `data`",
        "is the message as JSON in the proto3 JSON mapping (lowerCamelCase names, enums by name,",
        "times in RFC 3339, every field present), as in the examples below.",
        "",
        "## Event types",
        "",
        "| event type | version | subject | message | published by |",
        "|---|---|---|---|---|",
    ]
    for e in catalogue:
        publishers = ", ".join(sorted(e.code.publishers)) if e.code else ""
        lines.append(
            f"| [`{e.event_type.name}`](#{anchor(e.event_type.name)}) | {e.event_type.version} "
            f"| `{_subject(e.code, e.event_type)}` | `{e.cls.DESCRIPTOR.full_name}` "
            f"| {publishers or 'not yet'} |"
        )
    lines.append("")
    used = Used()
    service = ""
    for e in catalogue:
        if e.event_type.service != service:
            service = e.event_type.service
            lines += [f"## {service}", ""]
        lines += [f"### {e.event_type.name}", ""]
        doc = _message_doc(e.cls.DESCRIPTOR.full_name, protos.comments)
        if doc:
            lines += [doc, ""]
        publishers = ", ".join(sorted(e.code.publishers)) if e.code and e.code.publishers else ""
        lines += [
            f"- version: {e.event_type.version}",
            f"- subject: `{_subject(e.code, e.event_type)}`",
            f"- published by: {publishers or 'nobody yet (declared for consumers)'}",
            f"- message: `{e.cls.DESCRIPTOR.full_name}` (`protos/{e.file}`)",
            "",
            *_fields(e.cls.DESCRIPTOR, protos.comments),
            "Example `data`:",
            "",
            "```json",
            json.dumps(
                registry.to_dict(example(e.cls, e.event_type.verb)),
                indent=2,
                ensure_ascii=False,
            ),
            "```",
            "",
        ]
        used.add(e.cls.DESCRIPTOR)
    if unnamed:
        lines += ["## Event messages no event type uses yet", ""]
        lines += [f"- `{name}`" for name in unnamed]
        lines.append("")
    lines += ["## Messages and enums in the events", ""]
    for name in sorted(used.messages.keys() | used.enums.keys()):
        lines += [f"### {name}", ""]
        if comment := protos.comments.get(name):
            lines += [comment, ""]
        if name in used.enums:
            lines += ["| value | number | notes |", "|---|---|---|"]
            for value in used.enums[name].values:
                note = protos.comments.get(f"{name}.{value.name}", "")
                lines.append(f"| `{value.name}` | {value.number} | {_cell(note)} |")
            lines.append("")
        else:
            lines += _fields(used.messages[name], protos.comments)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    args = parser.parse_args(argv)
    try:
        text = render()
    except CatalogueError as exc:
        print(f"catalogue: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = DOCS_FILE.read_text() if DOCS_FILE.exists() else ""
        if current != text:
            print(f"{DOCS_FILE.relative_to(ROOT)} is stale: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    DOCS_FILE.parent.mkdir(parents=True, exist_ok=True)
    DOCS_FILE.write_text(text)
    print(f"wrote {DOCS_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
