"""A small GraphQL-over-HTTP client for the end-to-end tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) {
    session { token role rights user { id name email } establishment { id name timezone
      organization { id name slug } } }
    errors { field code message }
  }
}"""


@dataclass
class Gql:
    url: str
    token: str | None = None

    def raw(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        h = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        h.update(headers or {})
        reply = httpx.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=h, timeout=30
        )
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        return body

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        """Data of a query that must not fail at the top level."""
        body = self.raw(query, variables)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def as_(self, token: str | None) -> Gql:
        return Gql(self.url, token)


def unique_email(prefix: str = "owner") -> str:
    return f"{prefix}-{secrets.token_hex(5)}@example.com"


@dataclass
class Org:
    """A signed-up organization: its owner's API and the ids the tests need."""

    api: Gql
    organization_id: str
    establishment_id: str
    owner_id: str
    owner_email: str
    password: str


def sign_up(gql: Gql, name: str = "Salon", establishment: str = "Antwerpen") -> Org:
    email = unique_email()
    password = "correct horse battery"
    data = gql.as_(None)(
        SIGN_UP,
        input={
            "organizationName": name,
            "establishmentName": establishment,
            "email": email,
            "name": "Olivia Owner",
            "password": password,
        },
    )["signUp"]
    assert data["errors"] == [], data["errors"]
    session = data["session"]
    return Org(
        api=gql.as_(session["token"]),
        organization_id=session["establishment"]["organization"]["id"],
        establishment_id=session["establishment"]["id"],
        owner_id=session["user"]["id"],
        owner_email=email,
        password=password,
    )
