from __future__ import annotations

import strawberry

from gateway.schema.base import Right, Role


@strawberry.input
class SignUpInput:
    organization_name: str
    establishment_name: str
    timezone: str | None = "Europe/Brussels"
    email: str
    name: str
    password: str


@strawberry.input
class LoginInput:
    email: str
    password: str
    establishment_id: strawberry.ID | None = strawberry.field(
        default=None, description="Default: the user's first membership."
    )


@strawberry.input
class SwitchEstablishmentInput:
    establishment_id: strawberry.ID


@strawberry.input
class CreateEstablishmentInput:
    name: str
    timezone: str | None = "Europe/Brussels"


@strawberry.input(
    description="Adds a membership in the session establishment (R22). With the "
    "e-mail of an existing user of the organization, that user gets the "
    "membership (one person, one login) and name and password are not changed."
)
class AddMemberInput:
    email: str
    name: str
    password: str | None = None
    role: Role  # type: ignore[valid-type]
    rights: list[Right] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


@strawberry.input(description="Rights of a member in the session establishment.")
class SetRightsInput:
    user_id: strawberry.ID
    rights: list[Right]  # type: ignore[valid-type]
