"""R29: forms of the session establishment (templates with typed fields) and clients'
answers to them. A form of another establishment is not found here, as one of another
organization; answering it is refused and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import AUTHENTICATED, UserError, user_errors
from gateway.schema.tenancy.types import (
    Establishment,
    User,
    load_establishment,
    load_establishments,
)
from salon.clients.v1 import forms_pb2
from services.common.errors import DomainError

_PREFIX = "FORM_FIELD_TYPE_"


@strawberry.enum(
    description="How an answer is read: TEXT as given, NUMBER a decimal "
    '("12", "3.5"), BOOLEAN "true" or "false", CHOICE one of the options, '
    'DATE "YYYY-MM-DD".'
)
class FormFieldType(Enum):
    TEXT = "TEXT"
    NUMBER = "NUMBER"
    BOOLEAN = "BOOLEAN"
    CHOICE = "CHOICE"
    DATE = "DATE"


def _type_to_proto(value: FormFieldType) -> forms_pb2.FormFieldType.ValueType:
    return forms_pb2.FormFieldType.Value(_PREFIX + value.value)


def _type_of(value: int) -> FormFieldType:
    return FormFieldType(forms_pb2.FormFieldType.Name(value).removeprefix(_PREFIX))  # type: ignore[arg-type]


def _dt(ts: object) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)  # type: ignore[attr-defined, no-any-return]


@strawberry.type
class FormField:
    key: str
    label: str
    type: FormFieldType
    required: bool
    options: list[str] = strawberry.field(description="CHOICE only.")


@strawberry.type(description="A form of one establishment (R29).")
class Form:
    id: strawberry.ID
    name: str
    fields: list[FormField]
    version: int = strawberry.field(description="1 at creation, one more per update.")
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: forms_pb2.Form) -> Form:
        return cls(
            id=strawberry.ID(msg.id),
            name=msg.name,
            fields=[
                FormField(
                    key=f.key,
                    label=f.label,
                    type=_type_of(f.type),
                    required=f.required,
                    options=list(f.options),
                )
                for f in msg.fields
            ],
            version=msg.version,
            created_at=_dt(msg.created_at),
            updated_at=_dt(msg.updated_at),
            archived_at=_dt(msg.archived_at) if msg.HasField("archived_at") else None,
            establishment_id=msg.establishment_id,
        )

    @strawberry.field
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        est = await load_establishment(info, self.establishment_id)
        assert est is not None
        return est


@strawberry.type
class FormAnswer:
    key: str
    value: str


@strawberry.type(description="A client's answers to a form, given in one establishment.")
class FormResponse:
    id: strawberry.ID
    form_version: int = strawberry.field(description="The version the answers fit.")
    answers: list[FormAnswer] = strawberry.field(
        description="In the order of the form's fields; blank optional ones are absent."
    )
    answered_at: datetime
    form_id: strawberry.Private[str]
    answered_by_id: strawberry.Private[str]
    establishment_id: strawberry.Private[str]
    client_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: forms_pb2.FormResponse) -> FormResponse:
        return cls(
            id=strawberry.ID(msg.id),
            form_version=msg.form_version,
            answers=[FormAnswer(key=a.key, value=a.value) for a in msg.answers],
            answered_at=_dt(msg.answered_at),
            form_id=msg.form_id,
            answered_by_id=msg.answered_by,
            establishment_id=msg.establishment_id,
            client_id=msg.client_id,
        )

    @strawberry.field(description="The form as it is now (it may have a later version).")
    async def form(self, info: Info[Context, None]) -> Form | None:
        msg = await info.context.loaders.form_by_id.load(self.form_id)
        return Form.of(msg) if msg is not None else None

    @strawberry.field(description="Who recorded the answers.")
    async def answered_by(self, info: Info[Context, None]) -> User | None:
        if not self.answered_by_id:
            return None
        row = await info.context.loaders.user_by_id.load(self.answered_by_id)
        return User.of(row) if row is not None else None

    @strawberry.field
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        est = await load_establishment(info, self.establishment_id)
        assert est is not None
        return est


# -- inputs and payloads ----------------------------------------------------------------


@strawberry.input
class FormFieldInput:
    key: str = strawberry.field(
        description="Lower-case letters, digits, underscores, starting with a letter."
    )
    label: str
    type: FormFieldType
    required: bool | None = False
    options: list[str] | None = None


@strawberry.input(description="In the session establishment (R29).")
class CreateFormInput:
    name: str
    fields: list[FormFieldInput]


@strawberry.input(description="Replaces the name and the fields; not for an archived form.")
class UpdateFormInput:
    id: strawberry.ID
    name: str
    fields: list[FormFieldInput]


@strawberry.input(description="An archived form takes no answers; its answers stay.")
class ArchiveFormInput:
    id: strawberry.ID


@strawberry.input
class FormAnswerInput:
    key: str
    value: str | None = None


@strawberry.input(
    description="A client's answers to a form of the session establishment, checked "
    "against its fields (required, types, choice options; unknown keys refused)."
)
class SubmitFormAnswersInput:
    form_id: strawberry.ID
    client_id: strawberry.ID
    answers: list[FormAnswerInput]


@strawberry.type
class FormPayload:
    form: Form | None = None
    establishments: list[Establishment] = strawberry.field(
        default_factory=list, description="The one changed: the session establishment (R07)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SubmitFormAnswersPayload:
    form_response: FormResponse | None = None
    establishments: list[Establishment] = strawberry.field(
        default_factory=list, description="The one changed: the session establishment (R07)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


def _fields(fields: list[FormFieldInput]) -> list[forms_pb2.FormField]:
    return [
        forms_pb2.FormField(
            key=f.key,
            label=f.label,
            type=_type_to_proto(f.type),
            required=bool(f.required),
            options=list(f.options or []),
        )
        for f in fields
    ]


async def _form_payload(info: Info[Context, None], change: forms_pb2.FormChange) -> FormPayload:
    return FormPayload(
        form=Form.of(change.form),
        establishments=await load_establishments(info, list(change.establishment_ids)),
    )


@strawberry.type
class FormsQuery:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="The session establishment's forms (R29), by name.",
    )
    async def forms(
        self, info: Info[Context, None], include_archived: bool | None = False
    ) -> list[Form]:
        ctx = info.context
        reply = await ctx.call(
            "clients",
            ctx.state.backends.forms.ListForms,
            forms_pb2.ListFormsRequest(include_archived=bool(include_archived)),
        )
        return [Form.of(f) for f in reply.forms]

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="null when unknown, of another establishment or organization (R29, R01).",
    )
    async def form(self, info: Info[Context, None], id: strawberry.ID) -> Form | None:
        if len(id) > 64:
            return None
        msg = await info.context.loaders.form_by_id.load(str(id))
        return Form.of(msg) if msg is not None else None


@strawberry.type
class FormsMutation:
    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def create_form(self, info: Info[Context, None], input: CreateFormInput) -> FormPayload:
        ctx = info.context
        try:
            change = await ctx.call(
                "clients",
                ctx.state.backends.forms.CreateForm,
                forms_pb2.CreateFormRequest(name=input.name, fields=_fields(input.fields)),
            )
        except DomainError as exc:
            return FormPayload(errors=user_errors(exc))
        return await _form_payload(info, change)

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def update_form(self, info: Info[Context, None], input: UpdateFormInput) -> FormPayload:
        ctx = info.context
        try:
            change = await ctx.call(
                "clients",
                ctx.state.backends.forms.UpdateForm,
                forms_pb2.UpdateFormRequest(
                    id=str(input.id), name=input.name, fields=_fields(input.fields)
                ),
            )
        except DomainError as exc:
            return FormPayload(errors=user_errors(exc))
        return await _form_payload(info, change)

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def archive_form(self, info: Info[Context, None], input: ArchiveFormInput) -> FormPayload:
        ctx = info.context
        try:
            change = await ctx.call(
                "clients",
                ctx.state.backends.forms.ArchiveForm,
                forms_pb2.ArchiveFormRequest(id=str(input.id)),
            )
        except DomainError as exc:
            return FormPayload(errors=user_errors(exc))
        return await _form_payload(info, change)

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def submit_form_answers(
        self, info: Info[Context, None], input: SubmitFormAnswersInput
    ) -> SubmitFormAnswersPayload:
        ctx = info.context
        try:
            change = await ctx.call(
                "clients",
                ctx.state.backends.forms.SubmitFormAnswers,
                forms_pb2.SubmitFormAnswersRequest(
                    form_id=str(input.form_id),
                    client_id=str(input.client_id),
                    answers=[
                        forms_pb2.FormAnswer(key=a.key, value=a.value or "") for a in input.answers
                    ],
                ),
            )
        except DomainError as exc:
            return SubmitFormAnswersPayload(errors=user_errors(exc))
        return SubmitFormAnswersPayload(
            form_response=FormResponse.of(change.response),
            establishments=await load_establishments(info, list(change.establishment_ids)),
        )
