"""R29's forms in the clients process, over real gRPC on loopback, on SQLite and (with
TEST_DATABASE_URL) PostgreSQL, with a real NATS server: templates and answers belong to
one establishment and are invisible from the others (NOT_FOUND, as another organization's);
answers are checked against the template; a refused answer writes nothing; events go
through the outbox."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import grpc
import orjson
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from launcher.nats_server import NatsServer
from salon.clients.v1 import clients_pb2, clients_pb2_grpc, events_pb2, forms_pb2, forms_pb2_grpc
from salon.common.v1 import privacy_pb2
from services.clients.service import SPEC as CLIENTS
from services.clients.store.forms_tables import form_responses
from services.clients.store.tables import metadata as clients_metadata
from services.clients.store.tables import outbox
from services.common import migrations
from services.common.db import Database
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.scope import Role
from tests.support.services import Metadata, metadata, running

T = forms_pb2.FormFieldType


@dataclass
class Clients:
    stub: clients_pb2_grpc.ClientsServiceStub
    forms: forms_pb2_grpc.FormsServiceStub
    db: Database


@pytest.fixture
async def clients(database_url: str, nats_server: NatsServer) -> AsyncIterator[Clients]:
    async with running(nats_server.url, {"clients": database_url}, {"clients": CLIENTS}) as s:
        db = Database(database_url)
        try:
            channel = s.channel("clients")
            yield Clients(
                clients_pb2_grpc.ClientsServiceStub(channel),
                forms_pb2_grpc.FormsServiceStub(channel),
                db,
            )
        finally:
            await db.dispose()


def _id() -> str:
    return secrets.token_hex(16)


def _md(org: str, est: str, user: str = "u-desk") -> Metadata:
    return metadata(org, est, user_id=user, role=Role.STAFF)


async def _fails(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = from_rpc_error(caught.value)
    assert error is not None, caught.value
    return error


async def _client(clients: Clients, org: str, est: str, first: str = "Ann") -> str:
    client = await clients.stub.CreateClient(
        clients_pb2.CreateClientRequest(first_name=first, last_name="Peeters"),
        metadata=_md(org, est),
        timeout=5,
    )
    return client.id


FIELDS = [
    forms_pb2.FormField(key="allergies", label="Allergies", type=T.FORM_FIELD_TYPE_TEXT),
    forms_pb2.FormField(
        key="skin",
        label="Skin type",
        type=T.FORM_FIELD_TYPE_CHOICE,
        required=True,
        options=["dry", "normal", "oily"],
    ),
    forms_pb2.FormField(key="pregnant", label="Pregnant", type=T.FORM_FIELD_TYPE_BOOLEAN),
    forms_pb2.FormField(key="age", label="Age", type=T.FORM_FIELD_TYPE_NUMBER, required=True),
    forms_pb2.FormField(key="last_visit", label="Last treatment", type=T.FORM_FIELD_TYPE_DATE),
]


async def _form(clients: Clients, org: str, est: str, name: str = "Intake") -> forms_pb2.Form:
    change = await clients.forms.CreateForm(
        forms_pb2.CreateFormRequest(name=name, fields=FIELDS), metadata=_md(org, est), timeout=5
    )
    assert list(change.establishment_ids) == [est]
    return change.form


def _answers(**values: str) -> list[forms_pb2.FormAnswer]:
    return [forms_pb2.FormAnswer(key=k, value=v) for k, v in values.items()]


async def _submit(
    clients: Clients, org: str, est: str, form_id: str, client_id: str, **values: str
) -> forms_pb2.FormResponseChange:
    return await clients.forms.SubmitFormAnswers(
        forms_pb2.SubmitFormAnswersRequest(
            form_id=form_id, client_id=client_id, answers=_answers(**values)
        ),
        metadata=_md(org, est),
        timeout=5,
    )


async def _responses(
    clients: Clients, org: str, est: str, *client_ids: str
) -> list[forms_pb2.FormResponse]:
    reply = await clients.forms.ListClientFormResponses(
        forms_pb2.ListClientFormResponsesRequest(client_ids=list(client_ids)),
        metadata=_md(org, est),
        timeout=5,
    )
    return list(reply.responses)


async def _written(clients: Clients, org: str) -> tuple[int, list[str]]:
    """Responses stored, and the event types in the outbox, of the organization."""
    async with clients.db.read(organization_id=org) as session:
        count = await session.execute(
            select(func.count())
            .select_from(form_responses)
            .where(form_responses.c.organization_id == org)
        )
        types = await session.execute(
            select(outbox.c.type).where(outbox.c.organization_id == org).order_by(outbox.c.seq)
        )
        return int(count.scalar_one()), list(types.scalars())


# -- the schema ---------------------------------------------------------------------------


async def test_R29_the_migrations_build_exactly_the_tables_of_the_code(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrations.upgrade(db, CLIENTS.migrations)
        async with db.read() as conn:  # the schema only: no tenant row is read
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), clients_metadata)
            )
    finally:
        await db.dispose()
    assert diff == []


# -- templates ----------------------------------------------------------------------------


async def test_R29_forms_of_A_are_invisible_from_B(clients: Clients) -> None:
    org, a, b = _id(), _id(), _id()
    form = await _form(clients, org, a)

    assert (form.establishment_id, form.name, form.version) == (a, "Intake", 1)
    assert [(f.key, f.type, f.required, list(f.options)) for f in form.fields] == [
        ("allergies", T.FORM_FIELD_TYPE_TEXT, False, []),
        ("skin", T.FORM_FIELD_TYPE_CHOICE, True, ["dry", "normal", "oily"]),
        ("pregnant", T.FORM_FIELD_TYPE_BOOLEAN, False, []),
        ("age", T.FORM_FIELD_TYPE_NUMBER, True, []),
        ("last_visit", T.FORM_FIELD_TYPE_DATE, False, []),
    ]
    listed_a = await clients.forms.ListForms(
        forms_pb2.ListFormsRequest(), metadata=_md(org, a), timeout=5
    )
    listed_b = await clients.forms.ListForms(
        forms_pb2.ListFormsRequest(include_archived=True), metadata=_md(org, b), timeout=5
    )
    got_b = await clients.forms.GetForms(
        forms_pb2.GetFormsRequest(ids=[form.id]), metadata=_md(org, b), timeout=5
    )
    got_other = await clients.forms.GetForms(
        forms_pb2.GetFormsRequest(ids=[form.id]), metadata=_md(_id(), a), timeout=5
    )
    assert [f.id for f in listed_a.forms] == [form.id]
    assert list(listed_b.forms) == [] and list(got_b.forms) == [] and list(got_other.forms) == []

    # B can neither change nor archive it: NOT_FOUND, as from another organization.
    update = forms_pb2.UpdateFormRequest(id=form.id, name="Hijacked", fields=FIELDS[:1])
    from_b = await _fails(clients.forms.UpdateForm(update, metadata=_md(org, b), timeout=5))
    from_other = await _fails(clients.forms.UpdateForm(update, metadata=_md(_id(), a), timeout=5))
    archive_b = await _fails(
        clients.forms.ArchiveForm(
            forms_pb2.ArchiveFormRequest(id=form.id), metadata=_md(org, b), timeout=5
        )
    )
    assert (from_b.code, from_b.field) == (ErrorCode.NOT_FOUND, "id")
    assert (from_other.code, from_other.field) == (ErrorCode.NOT_FOUND, "id")
    assert archive_b.code is ErrorCode.NOT_FOUND
    [still] = (
        await clients.forms.GetForms(
            forms_pb2.GetFormsRequest(ids=[form.id]), metadata=_md(org, a), timeout=5
        )
    ).forms
    assert still == form


async def test_R29_update_raises_the_version_and_archive_stops_answers(clients: Clients) -> None:
    org, a = _id(), _id()
    ann = await _client(clients, org, a)
    form = await _form(clients, org, a)

    updated = (
        await clients.forms.UpdateForm(
            forms_pb2.UpdateFormRequest(id=form.id, name="Intake v2", fields=FIELDS[1:2]),
            metadata=_md(org, a),
            timeout=5,
        )
    ).form
    answered = await _submit(clients, org, a, form.id, ann, skin="dry")
    archived = await clients.forms.ArchiveForm(
        forms_pb2.ArchiveFormRequest(id=form.id), metadata=_md(org, a), timeout=5
    )
    again = await clients.forms.ArchiveForm(
        forms_pb2.ArchiveFormRequest(id=form.id), metadata=_md(org, a), timeout=5
    )
    late = await _fails(_submit(clients, org, a, form.id, ann, skin="oily"))
    edit = await _fails(
        clients.forms.UpdateForm(
            forms_pb2.UpdateFormRequest(id=form.id, name="Intake v3", fields=FIELDS),
            metadata=_md(org, a),
            timeout=5,
        )
    )

    assert (updated.name, updated.version, [f.key for f in updated.fields]) == (
        "Intake v2",
        2,
        ["skin"],
    )
    assert answered.response.form_version == 2
    assert archived.form.HasField("archived_at") and again.form == archived.form
    assert (late.code, late.field) == (ErrorCode.CONFLICT, "formId")
    assert (edit.code, edit.field) == (ErrorCode.CONFLICT, "id")
    listed = await clients.forms.ListForms(
        forms_pb2.ListFormsRequest(), metadata=_md(org, a), timeout=5
    )
    with_archived = await clients.forms.ListForms(
        forms_pb2.ListFormsRequest(include_archived=True), metadata=_md(org, a), timeout=5
    )
    assert list(listed.forms) == [] and [f.id for f in with_archived.forms] == [form.id]
    # The answers stay.
    assert [r.id for r in await _responses(clients, org, a, ann)] == [answered.response.id]
    count, types = await _written(clients, org)
    assert count == 1
    assert [t for t in types if ".form" in t] == [
        "salon.clients.form.created.v1",
        "salon.clients.form.updated.v1",
        "salon.clients.form_response.submitted.v1",
        "salon.clients.form.archived.v1",
    ]


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        ("", FIELDS, None),
        ("Intake", [], "at least one field"),
        ("Intake", [FIELDS[0], FIELDS[0]], "used twice"),
        (
            "Intake",
            [forms_pb2.FormField(key="Bad Key", label="x", type=T.FORM_FIELD_TYPE_TEXT)],
            "fields[0].key",
        ),
        (
            "Intake",
            [forms_pb2.FormField(key="k", label=" ", type=T.FORM_FIELD_TYPE_TEXT)],
            "fields[0].label",
        ),
        ("Intake", [forms_pb2.FormField(key="k", label="K")], "fields[0].type"),
        (
            "Intake",
            [forms_pb2.FormField(key="k", label="K", type=T.FORM_FIELD_TYPE_CHOICE)],
            "needs options",
        ),
        (
            "Intake",
            [
                forms_pb2.FormField(
                    key="k", label="K", type=T.FORM_FIELD_TYPE_CHOICE, options=["a", "a"]
                )
            ],
            "listed twice",
        ),
        (
            "Intake",
            [forms_pb2.FormField(key="k", label="K", type=T.FORM_FIELD_TYPE_TEXT, options=["a"])],
            "only a CHOICE",
        ),
        (
            "Intake",
            [
                forms_pb2.FormField(key=f"k{i}", label="K", type=T.FORM_FIELD_TYPE_TEXT)
                for i in range(51)
            ],
            "at most 50",
        ),
    ],
)
async def test_R29_a_bad_template_is_invalid_and_writes_nothing(
    clients: Clients, name: str, fields: list[forms_pb2.FormField], message: str | None
) -> None:
    org, a = _id(), _id()

    error = await _fails(
        clients.forms.CreateForm(
            forms_pb2.CreateFormRequest(name=name, fields=fields), metadata=_md(org, a), timeout=5
        )
    )

    assert error.code is ErrorCode.INVALID
    assert error.field == ("name" if message is None else "fields")
    assert message is None or message in error.message, error.message
    assert await _written(clients, org) == (0, [])


# -- answers ------------------------------------------------------------------------------


async def test_R29_answers_are_checked_normalised_and_stored_with_who_and_when(
    clients: Clients,
) -> None:
    org, a, b = _id(), _id(), _id()
    ann = await _client(clients, org, a)
    form = await _form(clients, org, a)

    change = await _submit(
        clients,
        org,
        a,
        form.id,
        ann,
        age=" 42.50 ",
        skin="oily",
        pregnant="No",
        last_visit="2026-11-30",
        allergies="",
    )

    response = change.response
    assert list(change.establishment_ids) == [a]
    assert (response.form_id, response.form_version, response.client_id) == (form.id, 1, ann)
    assert (response.establishment_id, response.answered_by) == (a, "u-desk")
    assert response.HasField("answered_at")
    # In the form's order; the blank optional answer is no answer.
    assert [(x.key, x.value) for x in response.answers] == [
        ("skin", "oily"),
        ("pregnant", "false"),
        ("age", "42.50"),
        ("last_visit", "2026-11-30"),
    ]
    assert await _responses(clients, org, a, ann) == [response]
    # The same client file (R10), but the answers are A's: B's record shows none.
    assert await _responses(clients, org, b, ann) == []
    assert await _responses(clients, _id(), a, ann) == []
    second = await _submit(clients, org, a, form.id, ann, skin="dry", age="43")
    assert [r.id for r in await _responses(clients, org, a, ann)] == [
        second.response.id,
        response.id,
    ]
    async with clients.db.read(organization_id=org) as session:
        payloads = await session.execute(
            select(outbox.c.payload, outbox.c.establishment_id).where(
                outbox.c.organization_id == org,
                outbox.c.type == "salon.clients.form_response.submitted.v1",
            )
        )
        [(payload, est), _] = payloads.all()
    event = events_pb2.FormResponseSubmitted.FromString(payload)
    assert (event.form_response_id, event.form_id, event.client_id, est) == (
        response.id,
        form.id,
        ann,
        a,
    )


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"age": "42"}, "'skin' (Skin type) is required"),
        ({"skin": "dry"}, "'age' (Age) is required"),
        ({"skin": "dry", "age": "  "}, "'age' (Age) is required"),
        ({"skin": "greasy", "age": "42"}, "must be one of: dry, normal, oily"),
        ({"skin": "dry", "age": "forty"}, "must be a number"),
        ({"skin": "dry", "age": "NaN"}, "must be a number"),
        ({"skin": "dry", "age": "1e999"}, "must be a number"),
        ({"skin": "dry", "age": "42", "pregnant": "maybe"}, "must be true or false"),
        ({"skin": "dry", "age": "42", "last_visit": "30/11/2026"}, "YYYY-MM-DD"),
        ({"skin": "dry", "age": "42", "last_visit": "2026-02-30"}, "YYYY-MM-DD"),
        ({"skin": "dry", "age": "42", "allergies": "x" * 2001}, "at most 2000"),
        ({"skin": "dry", "age": "42", "shoe_size": "44"}, "'shoe_size' is not a field"),
    ],
)
async def test_R29_answers_that_do_not_fit_the_form_are_invalid_and_write_nothing(
    clients: Clients, values: dict[str, str], fragment: str
) -> None:
    org, a = _id(), _id()
    ann = await _client(clients, org, a)
    form = await _form(clients, org, a)
    before = await _written(clients, org)

    error = await _fails(_submit(clients, org, a, form.id, ann, **values))

    assert (error.code, error.field) == (ErrorCode.INVALID, "answers")
    assert fragment in error.message, error.message
    assert await _written(clients, org) == before


async def test_R29_a_key_answered_twice_is_invalid(clients: Clients) -> None:
    org, a = _id(), _id()
    ann = await _client(clients, org, a)
    form = await _form(clients, org, a)

    error = await _fails(
        clients.forms.SubmitFormAnswers(
            forms_pb2.SubmitFormAnswersRequest(
                form_id=form.id,
                client_id=ann,
                answers=[*_answers(skin="dry", age="4"), *_answers(age="5")],
            ),
            metadata=_md(org, a),
            timeout=5,
        )
    )

    assert (error.code, error.field) == (ErrorCode.INVALID, "answers")
    assert "answered twice" in error.message


async def test_R29_answering_a_form_of_another_establishment_is_refused_and_writes_nothing(
    clients: Clients,
) -> None:
    org, other, a, b = _id(), _id(), _id(), _id()
    ann = await _client(clients, org, a)
    theirs = await _client(clients, other, a)
    form_a = await _form(clients, org, a)
    before = await _written(clients, org)

    from_b = await _fails(_submit(clients, org, b, form_a.id, ann, skin="dry", age="42"))
    from_other_org = await _fails(
        _submit(clients, other, a, form_a.id, theirs, skin="dry", age="42")
    )
    foreign_client = await _fails(_submit(clients, org, a, form_a.id, theirs, skin="dry", age="4"))
    unknown_client = await _fails(_submit(clients, org, a, form_a.id, _id(), skin="dry", age="4"))

    assert (from_b.code, from_b.field) == (ErrorCode.NOT_FOUND, "formId")
    assert "form not found" in from_b.message
    assert (from_other_org.code, from_other_org.field) == (ErrorCode.NOT_FOUND, "formId")
    assert (foreign_client.code, foreign_client.field) == (ErrorCode.NOT_FOUND, "clientId")
    assert (unknown_client.code, unknown_client.field) == (ErrorCode.NOT_FOUND, "clientId")
    assert await _written(clients, org) == before
    assert await _written(clients, other) == (0, ["salon.clients.client.created.v1"])
    assert await _responses(clients, org, a, ann) == []
    assert await _responses(clients, org, b, ann) == []


async def test_R29_answers_and_an_update_at_once_each_match_the_version_they_name(
    clients: Clients,
) -> None:
    org, a = _id(), _id()
    ann = await _client(clients, org, a)
    form = await _form(clients, org, a)
    # Version 2 makes "age" optional and drops the date: an answer given with it is
    # valid against version 1 only.
    v2 = [f for f in FIELDS if f.key != "last_visit"]
    v2[3] = forms_pb2.FormField(key="age", label="Age", type=T.FORM_FIELD_TYPE_NUMBER)

    async def answer() -> Any:
        try:
            return await _submit(
                clients, org, a, form.id, ann, skin="dry", age="42", last_visit="2026-01-02"
            )
        except grpc.aio.AioRpcError as exc:
            return from_rpc_error(exc)

    results = await asyncio.gather(
        *[answer() for _ in range(5)],
        clients.forms.UpdateForm(
            forms_pb2.UpdateFormRequest(id=form.id, name="Intake", fields=v2),
            metadata=_md(org, a),
            timeout=5,
        ),
        *[answer() for _ in range(5)],
    )

    stored = await _responses(clients, org, a, ann)
    accepted = [r for r in results if isinstance(r, forms_pb2.FormResponseChange)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(accepted) + len(refused) == 10
    assert len(stored) == len(accepted)
    # Every stored answer names version 1: the date was accepted only before the update.
    assert all(r.form_version == 1 for r in stored)
    assert all(e.code is ErrorCode.INVALID and "last_visit" in e.message for e in refused)


async def test_B11_R29_a_client_s_answers_are_exported_and_emptied_by_the_erasure(
    clients: Clients,
) -> None:
    org, a, b = _id(), _id(), _id()
    ann = await _client(clients, org, a)
    form_a, form_b = await _form(clients, org, a), await _form(clients, org, b)
    first = await _submit(clients, org, a, form_a.id, ann, skin="dry", age="42", allergies="nuts")
    second = await _submit(clients, org, b, form_b.id, ann, skin="oily", age="42")
    owner = metadata(org, a, user_id="u-owner", role=Role.OWNER)

    exported = await clients.stub.ExportClientData(
        privacy_pb2.ExportClientDataRequest(client_id=ann), metadata=owner, timeout=5
    )
    await clients.stub.EraseClient(
        clients_pb2.EraseClientRequest(id=ann), metadata=owner, timeout=5
    )

    # The owner's export holds the answers of every establishment.
    data = orjson.loads(exported.json)["formResponses"]
    assert [(r["id"], r["establishmentId"]) for r in data] == [
        (first.response.id, a),
        (second.response.id, b),
    ]
    assert {"key": "allergies", "value": "nuts"} in data[0]["answers"]
    # Erased: the answers are gone everywhere, the fact that they were given stays.
    [in_a] = await _responses(clients, org, a, ann)
    [in_b] = await _responses(clients, org, b, ann)
    assert (in_a.id, list(in_a.answers)) == (first.response.id, [])
    assert (in_b.id, list(in_b.answers)) == (second.response.id, [])
    # And no new ones can be added to the erased client.
    refused = await _fails(_submit(clients, org, a, form_a.id, ann, skin="dry", age="1"))
    assert (refused.code, refused.field) == (ErrorCode.CONFLICT, "clientId")


async def test_B07_R29_answers_given_under_a_merged_record_are_the_kept_record_s(
    clients: Clients,
) -> None:
    # Given the same person twice, with answers under each record in two establishments
    org, a, b = _id(), _id(), _id()
    kept, twin = await _client(clients, org, a), await _client(clients, org, b)
    form_a, form_b = await _form(clients, org, a), await _form(clients, org, b)
    mine = await _submit(clients, org, a, form_a.id, kept, skin="dry", age="42")
    theirs = await _submit(clients, org, b, form_b.id, twin, skin="oily", age="42")
    # When they are merged
    await clients.stub.MergeClients(
        clients_pb2.MergeClientsRequest(keep_id=kept, merge_id=twin),
        metadata=metadata(org, a, user_id="u-owner", role=Role.OWNER),
        timeout=5,
    )
    # Then each establishment shows its answers on the kept record, and none is lost
    [in_a] = await _responses(clients, org, a, kept)
    [in_b] = await _responses(clients, org, b, kept)
    assert (in_a.id, in_b.id) == (mine.response.id, theirs.response.id)
    assert {x.key: x.value for x in in_b.answers}["skin"] == "oily"
