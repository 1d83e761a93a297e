from __future__ import annotations

import strawberry


@strawberry.input
class CreateClientInput:
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    marketing_email_opt_out: bool | None = strawberry.field(
        default=None, description="R30: the client declines marketing e-mail (default false)."
    )
    marketing_sms_opt_out: bool | None = strawberry.field(
        default=None, description="R30: the client declines marketing SMS (default false)."
    )


@strawberry.input(
    description="Fields left out stay as they are; email or phone null or empty clears it."
)
class UpdateClientInput:
    id: strawberry.ID
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    marketing_email_opt_out: bool | None = strawberry.field(
        default=strawberry.UNSET, description="R30: null or left out stays as it is."
    )
    marketing_sms_opt_out: bool | None = strawberry.field(
        default=strawberry.UNSET, description="R30: null or left out stays as it is."
    )


@strawberry.input(description="In the session establishment, one per client there (R23).")
class CreateLoyaltyCardInput:
    client_id: strawberry.ID
