"""R29 end to end, through the gateway with every process running: establishment A's
webshop, mini-website profile and forms (and a client's answers) are A's alone: B's
staff see none of it and change nothing of it; the public pages show A's profile and
A's webshop with A's prices while it is on, and nothing of B's disabled webshop."""

from __future__ import annotations

import pytest

from tests.e2e.test_catalog import ADD_MEMBER, LOGIN, _chain, _ok, _switch
from tests.support.graphql import Gql, unique_email

pytestmark = pytest.mark.e2e

ERRORS = "errors { field code message }"
SHOP = "enabled updatedAt products { id name price } establishment { id }"
PROFILE = (
    "description address { street postalCode city country } phone email photoUrls "
    "establishment { id }"
)
FORM = "id name version archivedAt fields { key label type required options } establishment { id }"
SET_WEBSHOP = f"""mutation($input: SetWebshopInput!) {{ setWebshop(input: $input) {{
  webshop {{ {SHOP} }} establishments {{ id }} {ERRORS} }} }}"""
SET_PROFILE = f"""mutation($input: SetWebsiteProfileInput!) {{ setWebsiteProfile(input: $input) {{
  websiteProfile {{ {PROFILE} }} establishments {{ id }} {ERRORS} }} }}"""
MINE = f"""{{ webshop {{ {SHOP} }} websiteProfile {{ {PROFILE} }}
  forms(includeArchived: true) {{ id }} }}"""
PUBLIC = f"""query($est: ID!) {{ publicWebsiteProfile(establishmentId: $est) {{ {PROFILE} }}
  publicWebshop(establishmentId: $est) {{ establishment {{ id }}
    products {{ id name brand price }} }} }}"""
CREATE_PRODUCT = """mutation($input: CreateProductInput!) { createProduct(input: $input) {
  product { id } errors { code } } }"""
SET_PRICE = """mutation($input: SetProductPriceInput!) { setProductPrice(input: $input) {
  errors { code } } }"""
CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id } errors { code } } }"""
CREATE_FORM = f"""mutation($input: CreateFormInput!) {{ createForm(input: $input) {{
  form {{ {FORM} }} establishments {{ id }} {ERRORS} }} }}"""
UPDATE_FORM = f"""mutation($input: UpdateFormInput!) {{ updateForm(input: $input) {{
  form {{ {FORM} }} establishments {{ id }} {ERRORS} }} }}"""
ARCHIVE_FORM = f"""mutation($input: ArchiveFormInput!) {{ archiveForm(input: $input) {{
  form {{ {FORM} }} establishments {{ id }} {ERRORS} }} }}"""
SUBMIT = f"""mutation($input: SubmitFormAnswersInput!) {{ submitFormAnswers(input: $input) {{
  formResponse {{ id formVersion answers {{ key value }} answeredAt answeredBy {{ id }}
    form {{ id }} establishment {{ id }} }} establishments {{ id }} {ERRORS} }} }}"""
FORM_BY_ID = f"query($id: ID!) {{ form(id: $id) {{ {FORM} }} }}"
CLIENT = """query($id: ID!) { client(id: $id) { id formResponses { id form { name }
  answers { key value } establishment { id } } } }"""

FIELDS = [
    {
        "key": "skin",
        "label": "Skin type",
        "type": "CHOICE",
        "required": True,
        "options": ["dry", "oily"],
    },
    {"key": "allergies", "label": "Allergies", "type": "TEXT"},
]


def test_R29_A_s_webshop_website_and_forms_are_invisible_from_B_and_public_pages_show_A_s(
    gql: Gql,
) -> None:
    org, (a, b) = _chain(gql)
    owner = org.api
    # Given, working in A: two products (one dearer in A), the webshop on with one of them,
    # the profile, a form and a client's answers.
    shampoo = _ok(
        owner(CREATE_PRODUCT, input={"name": "Shampoo", "price": "18.50"}), "createProduct"
    )["product"]["id"]
    wax = _ok(owner(CREATE_PRODUCT, input={"name": "Wax", "price": "12.00"}), "createProduct")[
        "product"
    ]["id"]
    _ok(owner(SET_PRICE, input={"productId": shampoo, "price": "21.00"}), "setProductPrice")
    shop = _ok(owner(SET_WEBSHOP, input={"enabled": True, "productIds": [shampoo]}), "setWebshop")
    assert [e["id"] for e in shop["establishments"]] == [a]
    assert shop["webshop"]["products"] == [{"id": shampoo, "name": "Shampoo", "price": "21.00"}]
    profile = _ok(
        owner(
            SET_PROFILE,
            input={
                "description": "Cuts in the old town",
                "address": {
                    "street": "Meir 12",
                    "postalCode": "2000",
                    "city": "Antwerpen",
                    "country": "BE",
                },
                "phone": "0470 12 34 56",
                "photoUrls": ["https://cdn.example.com/a.jpg"],
            },
        ),
        "setWebsiteProfile",
    )
    assert [e["id"] for e in profile["establishments"]] == [a]
    assert profile["websiteProfile"]["phone"] == "+32470123456"
    bad = owner(SET_PROFILE, input={"photoUrls": ["http://cdn.example.com/b.jpg"]})
    assert [(e["field"], e["code"]) for e in bad["setWebsiteProfile"]["errors"]] == [
        ("photoUrls", "INVALID")
    ]
    foreign = owner(SET_WEBSHOP, input={"productIds": [shampoo, "0" * 32]})
    assert [(e["field"], e["code"]) for e in foreign["setWebshop"]["errors"]] == [
        ("productIds", "NOT_FOUND")
    ]
    form = _ok(owner(CREATE_FORM, input={"name": "Intake", "fields": FIELDS}), "createForm")
    assert [e["id"] for e in form["establishments"]] == [a]
    form_id = form["form"]["id"]
    ann = _ok(
        owner(CREATE_CLIENT, input={"firstName": "Ann", "lastName": "Peeters"}), "createClient"
    )["client"]["id"]
    answered = _ok(
        owner(
            SUBMIT,
            input={
                "formId": form_id,
                "clientId": ann,
                "answers": [{"key": "skin", "value": "dry"}],
            },
        ),
        "submitFormAnswers",
    )
    assert [e["id"] for e in answered["establishments"]] == [a]
    assert answered["formResponse"]["answers"] == [{"key": "skin", "value": "dry"}]
    assert answered["formResponse"]["answeredBy"] == {"id": org.owner_id}
    invalid = owner(
        SUBMIT,
        input={"formId": form_id, "clientId": ann, "answers": [{"key": "skin", "value": "green"}]},
    )
    assert [(e["field"], e["code"]) for e in invalid["submitFormAnswers"]["errors"]] == [
        ("answers", "INVALID")
    ]
    in_a = owner(MINE)
    assert in_a["webshop"]["enabled"] is True
    assert in_a["websiteProfile"]["address"]["city"] == "Antwerpen"
    assert [f["id"] for f in in_a["forms"]] == [form_id]
    assert [r["answers"] for r in owner(CLIENT, id=ann)["client"]["formResponses"]] == [
        [{"key": "skin", "value": "dry"}]
    ]

    # When the owner works in B: none of A's settings, profile, forms or answers show.
    _switch(org, b)
    in_b = owner(MINE)
    assert in_b["webshop"] == {
        "enabled": False,
        "updatedAt": None,
        "products": [],
        "establishment": {"id": b},
    }
    assert in_b["websiteProfile"]["description"] is None
    assert in_b["websiteProfile"]["address"] is None
    assert in_b["forms"] == []
    assert owner(FORM_BY_ID, id=form_id)["form"] is None
    assert owner(CLIENT, id=ann)["client"]["formResponses"] == []  # the same client (R10)
    # ... and B cannot answer, change or archive A's form: refused, nothing written.
    refused = owner(
        SUBMIT,
        input={"formId": form_id, "clientId": ann, "answers": [{"key": "skin", "value": "oily"}]},
    )
    assert refused["submitFormAnswers"]["formResponse"] is None
    assert [(e["field"], e["code"]) for e in refused["submitFormAnswers"]["errors"]] == [
        ("formId", "NOT_FOUND")
    ]
    changed = owner(UPDATE_FORM, input={"id": form_id, "name": "Mine now", "fields": FIELDS})
    archived = owner(ARCHIVE_FORM, input={"id": form_id})
    assert [e["code"] for e in changed["updateForm"]["errors"]] == ["NOT_FOUND"]
    assert [e["code"] for e in archived["archiveForm"]["errors"]] == ["NOT_FOUND"]
    # B's own webshop, off, with wax: its settings change B only.
    b_shop = _ok(owner(SET_WEBSHOP, input={"enabled": False, "productIds": [wax]}), "setWebshop")
    assert [e["id"] for e in b_shop["establishments"]] == [b]
    # A staff member of B may not change B's webshop or website.
    email = unique_email("staff")
    _ok(
        owner(
            ADD_MEMBER,
            input={"email": email, "name": "Sam", "password": "pass-word-1", "role": "STAFF"},
        ),
        "addMember",
    )
    staff = owner.as_(None)(LOGIN, input={"email": email, "password": "pass-word-1"})
    staff_api = owner.as_(staff["login"]["session"]["token"])
    denied = staff_api(SET_WEBSHOP, input={"enabled": True})
    assert [e["code"] for e in denied["setWebshop"]["errors"]] == ["FORBIDDEN"]
    assert staff_api(MINE)["webshop"]["enabled"] is False

    # Back in A everything is as it was.
    _switch(org, a)
    again = owner(MINE)
    assert again == in_a
    assert [r["form"]["name"] for r in owner(CLIENT, id=ann)["client"]["formResponses"]] == [
        "Intake"
    ]

    # The public pages, without a session: A's profile and webshop (A's price, the product
    # not sold online absent); B's webshop is off, so it does not show.
    public = gql.as_(None)
    page_a = public(PUBLIC, est=a)
    assert page_a["publicWebsiteProfile"]["address"]["city"] == "Antwerpen"
    assert page_a["publicWebsiteProfile"]["photoUrls"] == ["https://cdn.example.com/a.jpg"]
    assert page_a["publicWebshop"] == {
        "establishment": {"id": a},
        "products": [{"id": shampoo, "name": "Shampoo", "brand": None, "price": "21.00"}],
    }
    page_b = public(PUBLIC, est=b)
    assert page_b["publicWebshop"] is None
    assert page_b["publicWebsiteProfile"]["description"] is None
    # Once A's webshop is off, it no longer shows either.
    _ok(owner(SET_WEBSHOP, input={"enabled": False}), "setWebshop")
    assert public(PUBLIC, est=a)["publicWebshop"] is None
    # Another organization's session sees nothing of A's forms.
    other = _chain(gql, 0)[0]
    assert other.api(FORM_BY_ID, id=form_id)["form"] is None
    assert other.api("{ forms(includeArchived: true) { id } }")["forms"] == []
