from __future__ import annotations

import strawberry


@strawberry.input
class CreateClientInput:
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None


@strawberry.input(
    description="Fields left out stay as they are; email or phone null or empty clears it."
)
class UpdateClientInput:
    id: strawberry.ID
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET


@strawberry.input(description="In the session establishment, one per client there (R23).")
class CreateLoyaltyCardInput:
    client_id: strawberry.ID
