"""Queries of R29's forms. Every statement filters on the organization and the
establishment of the scope: a form of another establishment is not found here, exactly as
one of another organization (R01, R07)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.clients.domain.forms import Form, FormField, FormResponse, Template
from services.clients.store.forms_tables import form_responses, forms
from services.clients.store.tables import clients
from services.common.db import new_id
from services.common.errors import DomainError, ErrorCode, not_found


def _to_form(row: Any) -> Form:
    return Form(
        id=row.id,
        organization_id=row.organization_id,
        establishment_id=row.establishment_id,
        name=row.name,
        fields=[FormField.from_json(f) for f in orjson.loads(row.fields)],
        version=int(row.version),
        created_at=row.created_at,
        updated_at=row.updated_at,
        archived_at=row.archived_at,
    )


def _fields_json(template: Template) -> str:
    return orjson.dumps([f.to_json() for f in template.fields]).decode()


def _mine(organization_id: str, establishment_id: str) -> tuple[Any, Any]:
    return (
        forms.c.organization_id == organization_id,
        forms.c.establishment_id == establishment_id,
    )


async def create_form(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    template: Template,
    user_id: str,
    at: datetime,
) -> Form:
    form = Form(
        id=new_id(),
        organization_id=organization_id,
        establishment_id=establishment_id,
        name=template.name,
        fields=list(template.fields),
        version=1,
        created_at=at,
        updated_at=at,
    )
    await session.execute(
        forms.insert().values(
            id=form.id,
            organization_id=organization_id,
            establishment_id=establishment_id,
            name=form.name,
            fields=_fields_json(template),
            version=1,
            created_at=at,
            updated_at=at,
            created_by=user_id,
            archived_at=None,
        )
    )
    return form


async def form_for_change(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    form_id: str,
    field: str = "id",
) -> Form:
    """The establishment's form, locked until the transaction ends (so that an update,
    an archive and an answer to one form apply one after the other); NOT_FOUND otherwise."""
    row = (
        await session.execute(
            select(forms)
            .where(*_mine(organization_id, establishment_id), forms.c.id == form_id)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        raise not_found("form", field)
    return _to_form(row)


async def update_form(
    session: AsyncConnection, form: Form, template: Template, at: datetime
) -> Form:
    await session.execute(
        update(forms)
        .where(*_mine(form.organization_id, form.establishment_id), forms.c.id == form.id)
        .values(
            name=template.name,
            fields=_fields_json(template),
            version=form.version + 1,
            updated_at=at,
        )
    )
    form.name = template.name
    form.fields = list(template.fields)
    form.version += 1
    form.updated_at = at
    return form


async def archive_form(session: AsyncConnection, form: Form, at: datetime) -> Form:
    await session.execute(
        update(forms)
        .where(*_mine(form.organization_id, form.establishment_id), forms.c.id == form.id)
        .values(archived_at=at, updated_at=at)
    )
    form.archived_at = at
    form.updated_at = at
    return form


async def get_forms(
    session: AsyncConnection, organization_id: str, establishment_id: str, ids: Sequence[str]
) -> list[Form]:
    """The establishment's forms among `ids`, in the order asked; others left out."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return []
    rows = (
        await session.execute(
            select(forms).where(*_mine(organization_id, establishment_id), forms.c.id.in_(unique))
        )
    ).all()
    by_id = {r.id: _to_form(r) for r in rows}
    return [by_id[i] for i in unique if i in by_id]


async def list_forms(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    *,
    include_archived: bool,
) -> list[Form]:
    query = select(forms).where(*_mine(organization_id, establishment_id))
    if not include_archived:
        query = query.where(forms.c.archived_at.is_(None))
    found = [_to_form(r) for r in (await session.execute(query)).all()]
    return sorted(found, key=lambda f: (f.name.casefold(), f.id))


async def check_client(session: AsyncConnection, organization_id: str, client_id: str) -> None:
    """NOT_FOUND (clientId) unless the client is one of the organization's; CONFLICT for
    an erased one (B11: no personal data is added to it). The row stays locked until the
    transaction ends, so an erasure at the same moment comes after these answers and
    empties them too."""
    row = (
        await session.execute(
            select(clients.c.erased_at)
            .where(clients.c.organization_id == organization_id, clients.c.id == client_id)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        raise not_found("client", "clientId")
    if row.erased_at is not None:
        raise DomainError(ErrorCode.CONFLICT, "this client's personal data was erased", "clientId")


async def add_response(
    session: AsyncConnection,
    form: Form,
    client_id: str,
    answers: list[tuple[str, str]],
    user_id: str,
    at: datetime,
) -> FormResponse:
    response = FormResponse(
        id=new_id(),
        organization_id=form.organization_id,
        establishment_id=form.establishment_id,
        form_id=form.id,
        form_version=form.version,
        client_id=client_id,
        answers=answers,
        answered_by=user_id,
        answered_at=at,
    )
    await session.execute(
        form_responses.insert().values(
            id=response.id,
            organization_id=response.organization_id,
            establishment_id=response.establishment_id,
            form_id=form.id,
            form_version=form.version,
            client_id=client_id,
            answers=orjson.dumps([list(pair) for pair in answers]).decode(),
            answered_by=user_id,
            answered_at=at,
        )
    )
    return response


def _to_response(row: Any) -> FormResponse:
    return FormResponse(
        id=row.id,
        organization_id=row.organization_id,
        establishment_id=row.establishment_id,
        form_id=row.form_id,
        form_version=int(row.form_version),
        client_id=row.client_id,
        answers=[(str(k), str(v)) for k, v in orjson.loads(row.answers)],
        answered_by=row.answered_by,
        answered_at=row.answered_at,
    )


async def client_responses(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    client_ids: Sequence[str],
) -> list[FormResponse]:
    """The answers given in the establishment by these clients, newest first, in one
    query (the client record of a whole list)."""
    unique = list(dict.fromkeys(client_ids))
    if not unique:
        return []
    rows = await session.execute(
        select(form_responses)
        .where(
            form_responses.c.organization_id == organization_id,
            form_responses.c.establishment_id == establishment_id,
            form_responses.c.client_id.in_(unique),
        )
        .order_by(form_responses.c.answered_at.desc(), form_responses.c.id)
    )
    return [_to_response(r) for r in rows.all()]


# -- privacy (B11) ------------------------------------------------------------------------


async def export_client(
    session: AsyncConnection, organization_id: str, client_id: str
) -> list[dict[str, Any]]:
    """Every answer of the client in every establishment (an owner's export), oldest first."""
    rows = await session.execute(
        select(form_responses)
        .where(
            form_responses.c.organization_id == organization_id,
            form_responses.c.client_id == client_id,
        )
        .order_by(form_responses.c.answered_at, form_responses.c.id)
    )
    return [
        {
            "id": r.id,
            "establishmentId": r.establishment_id,
            "formId": r.form_id,
            "formVersion": r.form_version,
            "answers": [{"key": k, "value": v} for k, v in orjson.loads(r.answers)],
            "answeredBy": r.answered_by,
            "answeredAt": r.answered_at,
        }
        for r in rows.all()
    ]


async def erase_client(session: AsyncConnection, organization_id: str, client_id: str) -> None:
    """B11: the client's answers are emptied in every establishment (they may be health
    data); that a form was answered, when and by whom stays."""
    await session.execute(
        update(form_responses)
        .where(
            form_responses.c.organization_id == organization_id,
            form_responses.c.client_id == client_id,
        )
        .values(answers="[]")
    )
