"""R29's forms in the clients service: the FormsService servicer, beside the client file's.

Everything acts on the session establishment of the signed scope (R07): a form is created
there, and changed, archived, answered and read there only. A form of another
establishment is NOT_FOUND, as one of another organization (R01), and answering it writes
nothing. Each change records its event in the same transaction.
"""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from salon.clients.v1 import events_pb2, forms_pb2, forms_pb2_grpc
from services.clients.domain import forms as model
from services.clients.store import forms_repository as repo
from services.clients.store.tables import outbox
from services.common.db import utcnow
from services.common.errors import invalid
from services.common.events import EventType
from services.common.outbox import record_event
from services.common.runtime import ServiceContext
from services.common.scope import current_scope

FORM_CREATED = EventType("clients", "form", "created")
FORM_UPDATED = EventType("clients", "form", "updated")
FORM_ARCHIVED = EventType("clients", "form", "archived")
FORM_RESPONSE_SUBMITTED = EventType("clients", "form_response", "submitted")

_TYPE_PREFIX = "FORM_FIELD_TYPE_"


def _ts(value: object) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)  # type: ignore[arg-type]
    return ts


def field_to_proto(f: model.FormField) -> forms_pb2.FormField:
    return forms_pb2.FormField(
        key=f.key,
        label=f.label,
        type=forms_pb2.FormFieldType.Value(_TYPE_PREFIX + f.type.value),
        required=f.required,
        options=list(f.options),
    )


def form_to_proto(form: model.Form) -> forms_pb2.Form:
    msg = forms_pb2.Form(
        id=form.id,
        establishment_id=form.establishment_id,
        name=form.name,
        fields=[field_to_proto(f) for f in form.fields],
        version=form.version,
        created_at=_ts(form.created_at),
        updated_at=_ts(form.updated_at),
    )
    if form.archived_at is not None:
        msg.archived_at.CopyFrom(_ts(form.archived_at))
    return msg


def response_to_proto(response: model.FormResponse) -> forms_pb2.FormResponse:
    msg = forms_pb2.FormResponse(
        id=response.id,
        form_id=response.form_id,
        form_version=response.form_version,
        client_id=response.client_id,
        establishment_id=response.establishment_id,
        answers=[forms_pb2.FormAnswer(key=k, value=v) for k, v in response.answers],
        answered_by=response.answered_by,
    )
    if response.answered_at is not None:
        msg.answered_at.CopyFrom(_ts(response.answered_at))
    return msg


def check_template(name: str, fields: list[forms_pb2.FormField]) -> model.Template:
    checked = []
    for index, f in enumerate(fields):
        type_name = forms_pb2.FormFieldType.Name(f.type) if f.type in _TYPES else ""
        checked.append(
            model.check_field(
                index,
                f.key,
                f.label,
                type_name.removeprefix(_TYPE_PREFIX),
                f.required,
                list(f.options),
            )
        )
    return model.check_template(name, checked)


_TYPES = frozenset(forms_pb2.FormFieldType.Value(_TYPE_PREFIX + t.value) for t in model.FieldType)


class FormsServicer(forms_pb2_grpc.FormsServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def CreateForm(
        self, request: forms_pb2.CreateFormRequest, context: grpc.aio.ServicerContext
    ) -> forms_pb2.FormChange:
        scope = current_scope()
        template = check_template(request.name, list(request.fields))
        here = scope.establishment_id
        async with self.ctx.db.write() as session:
            form = await repo.create_form(
                session, scope.organization_id, here, template, scope.user_id, utcnow()
            )
            message = form_to_proto(form)
            await record_event(
                session,
                outbox,
                FORM_CREATED,
                events_pb2.FormCreated(form=message),
                scope,
                establishment_id=here,
            )
        self.ctx.wake_relay()
        return forms_pb2.FormChange(form=message, establishment_ids=[here])

    async def UpdateForm(
        self, request: forms_pb2.UpdateFormRequest, context: grpc.aio.ServicerContext
    ) -> forms_pb2.FormChange:
        scope = current_scope()
        template = check_template(request.name, list(request.fields))
        here = scope.establishment_id
        async with self.ctx.db.write() as session:
            form = await repo.form_for_change(session, scope.organization_id, here, request.id)
            model.check_may_change(form)
            form = await repo.update_form(session, form, template, utcnow())
            message = form_to_proto(form)
            await record_event(
                session,
                outbox,
                FORM_UPDATED,
                events_pb2.FormUpdated(form=message),
                scope,
                establishment_id=here,
            )
        self.ctx.wake_relay()
        return forms_pb2.FormChange(form=message, establishment_ids=[here])

    async def ArchiveForm(
        self, request: forms_pb2.ArchiveFormRequest, context: grpc.aio.ServicerContext
    ) -> forms_pb2.FormChange:
        scope = current_scope()
        here = scope.establishment_id
        async with self.ctx.db.write() as session:
            form = await repo.form_for_change(session, scope.organization_id, here, request.id)
            if form.archived:  # twice: the same answer, nothing published
                return forms_pb2.FormChange(form=form_to_proto(form), establishment_ids=[here])
            form = await repo.archive_form(session, form, utcnow())
            message = form_to_proto(form)
            await record_event(
                session,
                outbox,
                FORM_ARCHIVED,
                events_pb2.FormArchived(form=message),
                scope,
                establishment_id=here,
            )
        self.ctx.wake_relay()
        return forms_pb2.FormChange(form=message, establishment_ids=[here])

    async def GetForms(
        self, request: forms_pb2.GetFormsRequest, context: grpc.aio.ServicerContext
    ) -> forms_pb2.GetFormsResponse:
        scope = current_scope()
        ids = model.check_ids(list(request.ids))
        async with self.ctx.db.read() as session:
            found = await repo.get_forms(
                session, scope.organization_id, scope.establishment_id, ids
            )
        return forms_pb2.GetFormsResponse(forms=[form_to_proto(f) for f in found])

    async def ListForms(
        self, request: forms_pb2.ListFormsRequest, context: grpc.aio.ServicerContext
    ) -> forms_pb2.ListFormsResponse:
        scope = current_scope()
        async with self.ctx.db.read() as session:
            found = await repo.list_forms(
                session,
                scope.organization_id,
                scope.establishment_id,
                include_archived=request.include_archived,
            )
        return forms_pb2.ListFormsResponse(forms=[form_to_proto(f) for f in found])

    async def SubmitFormAnswers(
        self, request: forms_pb2.SubmitFormAnswersRequest, context: grpc.aio.ServicerContext
    ) -> forms_pb2.FormResponseChange:
        scope = current_scope()
        if not request.form_id.strip():
            raise invalid("formId", "must not be empty")
        if not request.client_id.strip():
            raise invalid("clientId", "must not be empty")
        given = [(a.key, a.value) for a in request.answers]
        here = scope.establishment_id
        async with self.ctx.db.write() as session:
            # The form of this establishment (NOT_FOUND from any other), locked: an update
            # or an archive of it waits, so the answers match the version they name.
            form = await repo.form_for_change(
                session, scope.organization_id, here, request.form_id, "formId"
            )
            answers = model.check_answers(form, given)
            await repo.check_client(session, scope.organization_id, request.client_id)
            response = await repo.add_response(
                session, form, request.client_id, answers, scope.user_id, utcnow()
            )
            message = response_to_proto(response)
            await record_event(
                session,
                outbox,
                FORM_RESPONSE_SUBMITTED,
                events_pb2.FormResponseSubmitted(
                    form_response_id=response.id,
                    form_id=form.id,
                    form_version=form.version,
                    client_id=response.client_id,
                ),
                scope,
                establishment_id=here,
            )
        self.ctx.wake_relay()
        return forms_pb2.FormResponseChange(response=message, establishment_ids=[here])

    async def ListClientFormResponses(
        self,
        request: forms_pb2.ListClientFormResponsesRequest,
        context: grpc.aio.ServicerContext,
    ) -> forms_pb2.ListClientFormResponsesResponse:
        scope = current_scope()
        client_ids = model.check_ids(list(request.client_ids), "clientIds")
        async with self.ctx.db.read() as session:
            found = await repo.client_responses(
                session, scope.organization_id, scope.establishment_id, client_ids
            )
        return forms_pb2.ListClientFormResponsesResponse(
            responses=[response_to_proto(r) for r in found]
        )
