"""Tenancy end to end: the launcher's processes, HTTP to the gateway (R01-R03, R07, R22)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.graphql import SIGN_UP, Gql, Org, sign_up, unique_email

pytestmark = pytest.mark.e2e

ME = """{ me { token role rights user { id email name memberships { role rights
  establishment { id name } } } establishment { id name organization { id } } } }"""
CREATE_EST = """mutation($input: CreateEstablishmentInput!) { createEstablishment(input: $input) {
  establishment { id name slug timezone organization { id } } errors { field code message } } }"""
ADD_MEMBER = """mutation($input: AddMemberInput!) { addMember(input: $input) {
  user { id email name memberships { role rights establishment { id } } }
  errors { field code message } } }"""
SET_RIGHTS = """mutation($input: SetRightsInput!) { setRights(input: $input) {
  user { id memberships { rights establishment { id } } } errors { field code message } } }"""
SWITCH = """mutation($input: SwitchEstablishmentInput!) { switchEstablishment(input: $input) {
  session { token role rights establishment { id } } errors { field code message } } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) {
  session { token role rights establishment { id } user { id } }
  errors { field code message } } }"""
STAFF = """query($est: ID) { staff(establishmentId: $est) { id name email } }"""


def _second_establishment(org: Org, name: str = "Gent") -> str:
    payload = org.api(CREATE_EST, input={"name": name, "timezone": "Europe/Brussels"})
    result = payload["createEstablishment"]
    assert result["errors"] == []
    return str(result["establishment"]["id"])


def _login(gql: Gql, email: str, password: str, establishment_id: str | None = None) -> dict:
    variables: dict = {"email": email, "password": password}
    if establishment_id:
        variables["establishmentId"] = establishment_id
    return gql.as_(None)(LOGIN, input=variables)["login"]


def test_sign_up_creates_organization_establishment_and_owner_session(gql: Gql) -> None:
    org = sign_up(gql, name="Chez Élise", establishment="Antwerpen Centrum")
    me = org.api(ME)["me"]
    assert me["role"] == "OWNER"
    assert me["establishment"]["name"] == "Antwerpen Centrum"
    assert me["user"]["email"] == org.owner_email
    data = org.api("{ organization { name slug establishments { name slug timezone } } }")
    assert data["organization"]["name"] == "Chez Élise"
    assert data["organization"]["slug"].startswith("chez-elise")
    assert data["organization"]["establishments"] == [
        {"name": "Antwerpen Centrum", "slug": "antwerpen-centrum", "timezone": "Europe/Brussels"}
    ]


def test_R02_one_login_with_a_membership_per_establishment(gql: Gql) -> None:
    org = sign_up(gql)
    gent = _second_establishment(org)
    email = unique_email("lotte")
    added = org.api(
        ADD_MEMBER,
        input={
            "email": email,
            "name": "Lotte",
            "password": "lotte-pass-1",
            "role": "STAFF",
            "rights": ["SWITCH_AGENDA"],
        },
    )["addMember"]
    assert added["errors"] == []
    org.api(SWITCH, input={"establishmentId": gent})
    again = org.api(
        ADD_MEMBER,
        input={"email": email.upper(), "name": "ignored", "role": "MANAGER", "rights": []},
    )["addMember"]
    assert again["errors"] == []
    assert again["user"]["id"] == added["user"]["id"]  # one person, one login
    memberships = {m["establishment"]["id"]: m for m in again["user"]["memberships"]}
    assert memberships[org.establishment_id]["role"] == "STAFF"
    assert memberships[org.establishment_id]["rights"] == ["SWITCH_AGENDA"]
    assert memberships[gent]["role"] == "MANAGER" and memberships[gent]["rights"] == []

    first = _login(gql, email, "lotte-pass-1")
    assert first["errors"] == []
    assert first["session"]["establishment"]["id"] == org.establishment_id
    assert first["session"]["role"] == "STAFF"
    in_gent = _login(gql, email, "lotte-pass-1", gent)
    assert in_gent["session"]["establishment"]["id"] == gent
    assert in_gent["session"]["role"] == "MANAGER"
    assert in_gent["session"]["user"]["id"] == first["session"]["user"]["id"]


def test_R03_switch_establishment_without_signing_out(gql: Gql) -> None:
    org = sign_up(gql)
    gent = _second_establishment(org)
    email = unique_email("jonas")
    org.api(
        ADD_MEMBER,
        input={
            "email": email,
            "name": "Jonas",
            "password": "jonas-pass-1",
            "role": "STAFF",
            "rights": [],
        },
    )
    org.api(SWITCH, input={"establishmentId": gent})
    org.api(
        ADD_MEMBER,
        input={"email": email, "name": "Jonas", "role": "STAFF", "rights": ["SWITCH_REPORTS"]},
    )
    token = _login(gql, email, "jonas-pass-1")["session"]["token"]
    jonas = gql.as_(token)
    switched = jonas(SWITCH, input={"establishmentId": gent})["switchEstablishment"]
    assert switched["errors"] == []
    assert switched["session"]["token"] == token
    assert switched["session"]["rights"] == ["SWITCH_REPORTS"]
    me = jonas(ME)["me"]
    assert me["establishment"]["id"] == gent and me["rights"] == ["SWITCH_REPORTS"]


def test_R22_rights_are_set_per_establishment(gql: Gql) -> None:
    org = sign_up(gql)
    gent = _second_establishment(org)
    email = unique_email("mila")
    user = org.api(
        ADD_MEMBER,
        input={
            "email": email,
            "name": "Mila",
            "password": "mila-pass-1",
            "role": "MANAGER",
            "rights": [],
        },
    )["addMember"]["user"]
    org.api(SWITCH, input={"establishmentId": gent})
    org.api(ADD_MEMBER, input={"email": email, "name": "Mila", "role": "STAFF", "rights": []})
    changed = org.api(
        SET_RIGHTS,
        input={"userId": user["id"], "rights": ["SWITCH_AGENDA", "MANAGE_OTHER_PRODUCTS"]},
    )
    result = changed["setRights"]
    assert result["errors"] == []
    rights = {m["establishment"]["id"]: m["rights"] for m in result["user"]["memberships"]}
    assert rights[gent] == ["SWITCH_AGENDA", "MANAGE_OTHER_PRODUCTS"]
    assert rights[org.establishment_id] == []
    session = _login(gql, email, "mila-pass-1", gent)["session"]
    assert session["rights"] == ["SWITCH_AGENDA", "MANAGE_OTHER_PRODUCTS"]
    assert _login(gql, email, "mila-pass-1")["session"]["rights"] == []


def test_R07_tenancy_changes_apply_to_the_session_establishment_only(gql: Gql) -> None:
    org = sign_up(gql)
    gent = _second_establishment(org)
    email = unique_email("sara")
    org.api(
        ADD_MEMBER,
        input={
            "email": email,
            "name": "Sara",
            "password": "sara-pass-1",
            "role": "STAFF",
            "rights": [],
        },
    )
    in_a = {u["email"] for u in org.api(STAFF)["staff"]}
    in_b = {u["email"] for u in org.api(STAFF, est=gent)["staff"]}
    assert email in in_a and email not in in_b
    # The owner who created Gent is a member there.
    assert org.owner_email in in_b
    # A right granted in the session establishment: setRights on a member of another
    # establishment only is NOT_FOUND here.
    org.api(SWITCH, input={"establishmentId": gent})
    sara_id = next(
        u["id"] for u in org.api(STAFF, est=org.establishment_id)["staff"] if u["email"] == email
    )
    refused = org.api(SET_RIGHTS, input={"userId": sara_id, "rights": ["SWITCH_AGENDA"]})
    assert refused["setRights"]["errors"][0]["code"] == "NOT_FOUND"
    assert refused["setRights"]["errors"][0]["field"] == "userId"


def test_R01_another_organization_cannot_reach_tenancy_ids(gql: Gql) -> None:
    a, b = sign_up(gql, name="A"), sign_up(gql, name="B")
    switched = b.api(SWITCH, input={"establishmentId": a.establishment_id})
    assert switched["switchEstablishment"]["errors"][0]["code"] == "NOT_FOUND"
    listed = b.api.raw(STAFF, {"est": a.establishment_id})
    assert listed["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    refused = b.api(SET_RIGHTS, input={"userId": a.owner_id, "rights": ["SWITCH_AGENDA"]})
    assert refused["setRights"]["errors"][0]["code"] == "NOT_FOUND"
    login = _login(gql, a.owner_email, a.password, b.establishment_id)
    assert login["errors"][0]["code"] == "NOT_FOUND"
    orgs = b.api("{ organization { id establishments { id } } }")["organization"]
    assert orgs["id"] == b.organization_id
    assert [e["id"] for e in orgs["establishments"]] == [b.establishment_id]


def test_roles_limit_who_changes_tenancy(gql: Gql) -> None:
    org = sign_up(gql)
    email = unique_email("staff")
    org.api(
        ADD_MEMBER,
        input={
            "email": email,
            "name": "Staff",
            "password": "staff-pass-1",
            "role": "STAFF",
            "rights": [],
        },
    )
    staff = gql.as_(_login(gql, email, "staff-pass-1")["session"]["token"])
    created = staff(CREATE_EST, input={"name": "Mine"})["createEstablishment"]
    assert created["errors"][0]["code"] == "FORBIDDEN" and created["establishment"] is None
    added = staff(
        ADD_MEMBER,
        input={
            "email": unique_email(),
            "name": "X",
            "password": "x-pass-12",
            "role": "STAFF",
            "rights": [],
        },
    )["addMember"]
    assert added["errors"][0]["code"] == "FORBIDDEN"
    manager_email = unique_email("manager")
    org.api(
        ADD_MEMBER,
        input={
            "email": manager_email,
            "name": "M",
            "password": "m-pass-123",
            "role": "MANAGER",
            "rights": [],
        },
    )
    manager = gql.as_(_login(gql, manager_email, "m-pass-123")["session"]["token"])
    owner_by_manager = manager(
        ADD_MEMBER,
        input={
            "email": unique_email(),
            "name": "O",
            "password": "o-pass-123",
            "role": "OWNER",
            "rights": [],
        },
    )["addMember"]
    assert owner_by_manager["errors"][0]["code"] == "FORBIDDEN"
    assert (
        len(org.api("{ organization { establishments { id } } }")["organization"]["establishments"])
        == 1
    )


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "INVALID", "timezone"),
        ({"organizationName": "  "}, "INVALID", "organizationName"),
        ({"establishmentName": ""}, "INVALID", "establishmentName"),
        ({"name": "x" * 101}, "INVALID", "name"),
        ({"email": "not-an-address"}, "INVALID", "email"),
        ({"email": ("x" * 250) + "@example.com"}, "INVALID", "email"),
        ({"password": "short"}, "INVALID", "password"),
        ({"organizationName": "y" * 500}, "INVALID", "organizationName"),
    ],
)
def test_bad_sign_up_input_is_invalid_and_writes_nothing(
    gql: Gql, change: dict, code: str, field: str
) -> None:
    email = unique_email()
    values = {
        "organizationName": "Salon",
        "establishmentName": "Main",
        "email": email,
        "name": "Owner",
        "password": "good-password",
        **change,
    }
    result = gql.as_(None)(SIGN_UP, input=values)["signUp"]
    assert result["session"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, field)]
    if "email" not in change:  # nothing was written: the e-mail is still free
        assert _login(gql, email, "good-password")["session"] is None
        assert sign_up_with(gql, email)["errors"] == []


def sign_up_with(gql: Gql, email: str) -> dict:
    return gql.as_(None)(
        SIGN_UP,
        input={
            "organizationName": "Salon",
            "establishmentName": "Main",
            "email": email,
            "name": "Owner",
            "password": "good-password",
        },
    )["signUp"]


def test_duplicate_sign_up_email_is_a_conflict_whatever_its_case(gql: Gql) -> None:
    org = sign_up(gql)
    result = sign_up_with(gql, org.owner_email.upper())
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("CONFLICT", "email")]


def test_wrong_password_and_unknown_email_give_the_same_answer(gql: Gql) -> None:
    org = sign_up(gql)
    wrong_password = _login(gql, org.owner_email, "not the password")
    unknown = _login(gql, unique_email("nobody"), "whatever-password")
    assert wrong_password == unknown
    assert wrong_password["session"] is None
    assert wrong_password["errors"][0]["code"] == "INVALID"


def test_everything_but_sign_up_and_login_needs_a_session(gql: Gql) -> None:
    anonymous = gql.as_(None)
    for document in [
        "{ me { role } }",
        "{ organization { id } }",
        "{ clients { totalCount } }",
        '{ client(id: "x") { id } }',
        "{ staff { id } }",
        "mutation { logout }",
        'mutation { createClient(input: {firstName: "A", lastName: "B"}) { errors { code } } }',
    ]:
        body = anonymous.raw(document)
        # Non-null fields null the whole answer; a nullable one (client) is null alone.
        assert body["data"] is None or not any(body["data"].values()), document
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", document
    forged = gql.as_("not-a-real-token").raw("{ me { role } }")
    assert forged["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_logout_revokes_the_token(gql: Gql) -> None:
    org = sign_up(gql)
    assert org.api("mutation { logout }")["logout"] is True
    body = org.api.raw("{ me { role } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_cookie_session_works_and_its_mutations_need_the_csrf_header(gql: Gql) -> None:
    org = sign_up(gql)
    with httpx.Client(base_url=gql.url.removesuffix("/graphql")) as browser:
        reply = browser.post(
            "/graphql",
            json={
                "query": LOGIN,
                "variables": {"input": {"email": org.owner_email, "password": org.password}},
            },
        )
        assert reply.json()["data"]["login"]["errors"] == []
        set_cookie = reply.headers.get_list("set-cookie")
        assert any("salon_session=" in c and "HttpOnly" in c for c in set_cookie)
        assert all(
            "salon_session=" + reply.json()["data"]["login"]["session"]["token"] in c
            for c in set_cookie
            if c.startswith("salon_session=")
        )
        me = browser.post("/graphql", json={"query": "{ me { role } }"}).json()
        assert me["data"]["me"]["role"] == "OWNER"
        create = {
            "query": 'mutation { createClient(input: {firstName: "Cookie", '
            'lastName: "Monster"}) { client { id } errors { code } } }'
        }
        refused = browser.post("/graphql", json=create).json()
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        csrf = browser.cookies["salon_csrf"]
        accepted = browser.post("/graphql", json=create, headers={"X-CSRF-Token": csrf}).json()
        assert accepted["data"]["createClient"]["errors"] == []


def test_health_readiness_and_graphiql(gql: Gql) -> None:
    base = gql.url.removesuffix("/graphql")
    assert httpx.get(f"{base}/healthz").json() == {"alive": True}
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200
    assert ready.json()["unavailable"] == []
    assert set(ready.json()["checks"]) >= {
        "clients",
        "catalog",
        "inventory",
        "booking",
        "payments",
        "nats",
        "database",
    }
    page = httpx.get(gql.url, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
