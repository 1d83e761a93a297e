from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import AUTHENTICATED, UserError, user_errors
from gateway.schema.clients.inputs import (
    CreateClientInput,
    CreateLoyaltyCardInput,
    UpdateClientInput,
)
from gateway.schema.clients.types import Client, LoyaltyCard
from salon.clients.v1 import clients_pb2
from services.common.errors import DomainError


@strawberry.type
class CreateClientPayload:
    client: Client | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateClientPayload:
    client: Client | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateLoyaltyCardPayload:
    loyalty_card: LoyaltyCard | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _given(value: object) -> bool:
    return value is not strawberry.UNSET


@strawberry.type
class ClientsMutation:
    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="Into the shared file; the session establishment is where "
        "the client has history from now on.",
    )
    async def create_client(
        self, info: Info[Context, None], input: CreateClientInput
    ) -> CreateClientPayload:
        ctx = info.context
        request = clients_pb2.CreateClientRequest(
            first_name=input.first_name, last_name=input.last_name
        )
        if input.email is not None:
            request.email = input.email
        if input.phone is not None:
            request.phone = input.phone
        if input.marketing_email_opt_out is not None:
            request.marketing_email_opt_out = input.marketing_email_opt_out
        if input.marketing_sms_opt_out is not None:
            request.marketing_sms_opt_out = input.marketing_sms_opt_out
        try:
            msg = await ctx.call("clients", ctx.state.backends.clients.CreateClient, request)
        except DomainError as exc:
            return CreateClientPayload(errors=user_errors(exc))
        return CreateClientPayload(client=Client.of(msg))

    @strawberry.mutation(permission_classes=AUTHENTICATED)
    async def update_client(
        self, info: Info[Context, None], input: UpdateClientInput
    ) -> UpdateClientPayload:
        ctx = info.context
        request = clients_pb2.UpdateClientRequest(id=str(input.id))
        # Names: null means unchanged. E-mail and phone: null or "" clears.
        if _given(input.first_name) and input.first_name is not None:
            request.first_name = input.first_name
        if _given(input.last_name) and input.last_name is not None:
            request.last_name = input.last_name
        if _given(input.email):
            request.email = input.email or ""
        if _given(input.phone):
            request.phone = input.phone or ""
        # R30: consent; null means unchanged.
        if _given(input.marketing_email_opt_out) and input.marketing_email_opt_out is not None:
            request.marketing_email_opt_out = input.marketing_email_opt_out
        if _given(input.marketing_sms_opt_out) and input.marketing_sms_opt_out is not None:
            request.marketing_sms_opt_out = input.marketing_sms_opt_out
        try:
            msg = await ctx.call("clients", ctx.state.backends.clients.UpdateClient, request)
        except DomainError as exc:
            return UpdateClientPayload(errors=user_errors(exc))
        return UpdateClientPayload(client=Client.of(msg))

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="A card of the session establishment: another establishment's record "
        "of the client does not show it, and points are earned there only (R23).",
    )
    async def create_loyalty_card(
        self, info: Info[Context, None], input: CreateLoyaltyCardInput
    ) -> CreateLoyaltyCardPayload:
        ctx = info.context
        try:
            msg = await ctx.call(
                "clients",
                ctx.state.backends.clients.CreateLoyaltyCard,
                clients_pb2.CreateLoyaltyCardRequest(client_id=str(input.client_id)),
            )
        except DomainError as exc:
            return CreateLoyaltyCardPayload(errors=user_errors(exc))
        ctx.loaders.loyalty_card_by_client.prime(msg.client_id, msg, force=True)
        return CreateLoyaltyCardPayload(loyalty_card=LoyaltyCard.of(msg))
