"""The shared catalogue and stock per establishment, end to end through the gateway
(R05, R07, R11, R12, R13, R20, R25, B02, B05, B10), with the seed articles' own examples."""

from __future__ import annotations

import time

import pytest

from tests.support.graphql import Gql, Org, sign_up, unique_email

pytestmark = pytest.mark.e2e

ERRORS = "errors { field code message }"
SERVICE_FIELDS = (
    "id name category price durationMinutes description bookableOnline "
    "customizedFields establishment { id }"
)
CREATE_SERVICE = f"""mutation($input: CreateServiceInput!) {{ createService(input: $input) {{
  service {{ {SERVICE_FIELDS} }} establishments {{ id }} {ERRORS} }} }}"""
UPDATE_SERVICE = f"""mutation($input: UpdateServiceInput!) {{ updateService(input: $input) {{
  service {{ {SERVICE_FIELDS} }} establishments {{ id }} {ERRORS} }} }}"""
RESET_SERVICE = f"""mutation($input: ResetServiceSettingsInput!) {{
  resetServiceSettings(input: $input) {{ service {{ {SERVICE_FIELDS} }} {ERRORS} }} }}"""
DELETE_SERVICE = f"""mutation($input: DeleteServiceInput!) {{ deleteService(input: $input) {{
  deletedServiceId establishments {{ id }} futureAppointments {ERRORS} }} }}"""
RESTORE_SERVICE = f"""mutation($input: RestoreServiceInput!) {{ restoreService(input: $input) {{
  service {{ {SERVICE_FIELDS} }} {ERRORS} }} }}"""
SERVICES = f"""query($est: ID) {{ services(establishmentId: $est) {{ {SERVICE_FIELDS} }} }}"""
PRODUCT_FIELDS = "id name brand barcode price priceCustomized stock establishment { id }"
CREATE_PRODUCT = f"""mutation($input: CreateProductInput!) {{ createProduct(input: $input) {{
  product {{ {PRODUCT_FIELDS} }} {ERRORS} }} }}"""
SET_PRICE = f"""mutation($input: SetProductPriceInput!) {{ setProductPrice(input: $input) {{
  product {{ {PRODUCT_FIELDS} }} establishments {{ id }} {ERRORS} }} }}"""
ADJUST = f"""mutation($input: AdjustStockInput!) {{ adjustStock(input: $input) {{
  product {{ {PRODUCT_FIELDS} }} establishments {{ id }} {ERRORS} }} }}"""
TRANSFER = f"""mutation($input: TransferStockInput!) {{ transferStock(input: $input) {{
  from {{ stock establishment {{ id }} }} to {{ stock establishment {{ id }} }} {ERRORS} }} }}"""
PRODUCTS = f"""query($est: ID) {{ products(establishmentId: $est) {{ {PRODUCT_FIELDS} }} }}"""
MOVEMENTS = """query($p: ID!, $est: ID) { stockMovements(productId: $p, establishmentId: $est) {
  delta reason at transferId establishment { id } product { id } } }"""
CREATE_MENU = f"""mutation($input: CreateMenuInput!) {{ createMenu(input: $input) {{
  menu {{ id name price services {{ id price }} establishment {{ id }} }} {ERRORS} }} }}"""
DELETE_MENU = f"""mutation($input: DeleteMenuInput!) {{ deleteMenu(input: $input) {{
  deletedMenuId {ERRORS} }} }}"""
MENUS = "{ menus { id name price services { id name price } } }"
CREATE_EST = """mutation($input: CreateEstablishmentInput!) { createEstablishment(input: $input) {
  establishment { id } errors { code } } }"""
SWITCH = """mutation($input: SwitchEstablishmentInput!) { switchEstablishment(input: $input) {
  errors { code } } }"""
ADD_MEMBER = """mutation($input: AddMemberInput!) { addMember(input: $input) {
  user { id } errors { code } } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { session { token }
  errors { code } } }"""


def _ok(result: dict, name: str) -> dict:
    payload = dict(result[name])
    assert payload["errors"] == [], payload["errors"]
    return payload


def _chain(gql: Gql, extra: int = 1) -> tuple[Org, list[str]]:
    """An organization with its first establishment (A) and `extra` more (B, C...)."""
    org = sign_up(gql)
    ids = [org.establishment_id]
    for i in range(extra):
        ids.append(
            _ok(org.api(CREATE_EST, input={"name": f"Branch {i}"}), "createEstablishment")[
                "establishment"
            ]["id"]
        )
    return org, ids


def _switch(org: Org, establishment_id: str) -> None:
    assert (
        org.api(SWITCH, input={"establishmentId": establishment_id})["switchEstablishment"][
            "errors"
        ]
        == []
    )


def _eventually(check, timeout: float = 15.0):
    """Cross-service effects travel by events: wait for them, within reason."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _service_in(org: Org, est: str, service_id: str) -> dict:
    found = [s for s in org.api(SERVICES, est=est)["services"] if s["id"] == service_id]
    assert found, f"service {service_id} not in {est}"
    return found[0]


def _cut(org: Org, price: str = "40.00") -> dict:
    return _ok(
        org.api(
            CREATE_SERVICE,
            input={"name": "Cut", "category": "Hair", "price": price, "durationMinutes": 30},
        ),
        "createService",
    )


def test_R11_a_service_exists_everywhere_even_in_an_establishment_opened_later(gql: Gql) -> None:
    org, (a, b) = _chain(gql)
    created = _cut(org)
    assert {e["id"] for e in created["establishments"]} >= {a}
    _eventually(lambda: _service_in(org, b, created["service"]["id"]))
    c = _ok(org.api(CREATE_EST, input={"name": "Opened later"}), "createEstablishment")[
        "establishment"
    ]["id"]
    later = _eventually(lambda: _service_in(org, c, created["service"]["id"]))
    assert later["price"] == "40.00" and later["establishment"]["id"] == c


def test_R12_a_price_raised_in_B_leaves_A_at_40(gql: Gql) -> None:
    org, (a, b) = _chain(gql)
    cut = _cut(org)["service"]
    _eventually(lambda: _service_in(org, b, cut["id"]))
    _switch(org, b)
    changed = _ok(org.api(UPDATE_SERVICE, input={"id": cut["id"], "price": "45"}), "updateService")
    assert changed["service"]["price"] == "45.00"
    assert [e["id"] for e in changed["establishments"]] == [b]
    assert _service_in(org, a, cut["id"])["price"] == "40.00"
    assert _service_in(org, b, cut["id"])["price"] == "45.00"


def test_R07_the_same_change_made_from_A_changes_A_and_says_so(gql: Gql) -> None:
    org, (a, b) = _chain(gql)
    cut = _cut(org)["service"]
    _eventually(lambda: _service_in(org, b, cut["id"]))
    changed = _ok(
        org.api(UPDATE_SERVICE, input={"id": cut["id"], "price": "45.00", "durationMinutes": 45}),
        "updateService",
    )
    assert [e["id"] for e in changed["establishments"]] == [a]
    assert changed["service"]["establishment"]["id"] == a
    in_b = _service_in(org, b, cut["id"])
    assert (in_b["price"], in_b["durationMinutes"]) == ("40.00", 30)


def test_B10_customised_values_show_and_reset_to_the_organization_value(gql: Gql) -> None:
    org, (a, _b) = _chain(gql)
    cut = _cut(org)["service"]
    assert cut["customizedFields"] == []
    org.api(UPDATE_SERVICE, input={"id": cut["id"], "price": "42.50", "bookableOnline": False})
    assert set(_service_in(org, a, cut["id"])["customizedFields"]) == {"price", "bookableOnline"}
    reset = _ok(
        org.api(RESET_SERVICE, input={"id": cut["id"], "fields": ["price"]}), "resetServiceSettings"
    )
    assert reset["service"]["price"] == "40.00"
    assert reset["service"]["customizedFields"] == ["bookableOnline"]
    bad = org.api(RESET_SERVICE, input={"id": cut["id"], "fields": ["name"]})
    assert bad["resetServiceSettings"]["errors"][0]["field"] == "fields"


def test_B05_delete_shows_impact_and_restore_brings_settings_back(gql: Gql) -> None:
    org, (a, b) = _chain(gql)
    cut = _cut(org)["service"]
    _eventually(lambda: _service_in(org, b, cut["id"]))
    org.api(UPDATE_SERVICE, input={"id": cut["id"], "price": "39.00"})
    deleted = _ok(org.api(DELETE_SERVICE, input={"id": cut["id"]}), "deleteService")
    assert deleted["deletedServiceId"] == cut["id"]
    assert {e["id"] for e in deleted["establishments"]} == {a, b}
    assert deleted["futureAppointments"] == 0
    for est in (a, b):
        assert cut["id"] not in [s["id"] for s in org.api(SERVICES, est=est)["services"]]
    again = org.api(DELETE_SERVICE, input={"id": cut["id"]})["deleteService"]
    assert again["errors"][0]["code"] == "NOT_FOUND"
    restored = _ok(org.api(RESTORE_SERVICE, input={"id": cut["id"]}), "restoreService")
    assert restored["service"]["price"] == "39.00"  # A's own price came back with it
    assert _service_in(org, b, cut["id"])["price"] == "40.00"


def test_R20_five_shampoos_in_A_twenty_in_B_and_a_delivery_booked_in_B(gql: Gql) -> None:
    org, (a, b) = _chain(gql)
    shampoo = _ok(
        org.api(
            CREATE_PRODUCT,
            input={
                "name": "Shampoo",
                "brand": "Kérastase",
                "barcode": "5410000000001",
                "price": "18.50",
            },
        ),
        "createProduct",
    )["product"]
    _ok(
        org.api(ADJUST, input={"productId": shampoo["id"], "delta": 5, "reason": "DELIVERY"}),
        "adjustStock",
    )
    _switch(org, b)
    _ok(
        org.api(ADJUST, input={"productId": shampoo["id"], "delta": 20, "reason": "DELIVERY"}),
        "adjustStock",
    )
    delivery = _ok(
        org.api(ADJUST, input={"productId": shampoo["id"], "delta": 10, "reason": "DELIVERY"}),
        "adjustStock",
    )
    assert [e["id"] for e in delivery["establishments"]] == [b]
    assert delivery["product"]["stock"] == 30

    def stock(est: str) -> int:
        return next(
            p["stock"] for p in org.api(PRODUCTS, est=est)["products"] if p["id"] == shampoo["id"]
        )

    assert (stock(a), stock(b)) == (5, 30)
    movements = org.api(MOVEMENTS, p=shampoo["id"])["stockMovements"]
    assert [(m["delta"], m["reason"]) for m in movements] == [(10, "DELIVERY"), (20, "DELIVERY")]
    assert all(m["establishment"]["id"] == b for m in movements)


def test_R13_products_are_shared_and_their_price_is_per_establishment(gql: Gql) -> None:
    org, (a, b) = _chain(gql)
    gel = _ok(org.api(CREATE_PRODUCT, input={"name": "Gel", "price": "12.00"}), "createProduct")[
        "product"
    ]
    changed = _ok(
        org.api(SET_PRICE, input={"productId": gel["id"], "price": "13.00"}), "setProductPrice"
    )
    assert [e["id"] for e in changed["establishments"]] == [a]
    assert changed["product"]["priceCustomized"] is True
    in_b = next(p for p in org.api(PRODUCTS, est=b)["products"] if p["id"] == gel["id"])
    assert (in_b["name"], in_b["price"], in_b["priceCustomized"]) == ("Gel", "12.00", False)
    duplicate = org.api(CREATE_PRODUCT, input={"name": "Other", "barcode": "123-X", "price": "1"})
    assert duplicate["createProduct"]["errors"] == []
    again = org.api(CREATE_PRODUCT, input={"name": "Same code", "barcode": "123-X", "price": "1"})[
        "createProduct"
    ]
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("CONFLICT", "barcode")]


def test_R05_another_establishments_stock_and_price_need_the_right(gql: Gql) -> None:
    org, (a, b) = _chain(gql)
    wax = _ok(org.api(CREATE_PRODUCT, input={"name": "Wax", "price": "9.00"}), "createProduct")[
        "product"
    ]
    users = {}
    for who, rights in [("without", []), ("with", ["MANAGE_OTHER_PRODUCTS"])]:
        email = unique_email(who)
        _ok(
            org.api(
                ADD_MEMBER,
                input={
                    "email": email,
                    "name": who,
                    "password": "pass-word-1",
                    "role": "STAFF",
                    "rights": rights,
                },
            ),
            "addMember",
        )
        token = org.api.as_(None)(LOGIN, input={"email": email, "password": "pass-word-1"})
        users[who] = org.api.as_(token["login"]["session"]["token"])

    denied = users["without"](
        ADJUST,
        input={"productId": wax["id"], "delta": 3, "reason": "DELIVERY", "establishmentId": b},
    )
    assert [(e["code"], e["field"]) for e in denied["adjustStock"]["errors"]] == [
        ("FORBIDDEN", "establishmentId")
    ]
    denied = users["without"](
        SET_PRICE, input={"productId": wax["id"], "price": "1.00", "establishmentId": b}
    )
    assert denied["setProductPrice"]["errors"][0]["code"] == "FORBIDDEN"
    listed = users["without"].raw(PRODUCTS, {"est": b})
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN" and listed["data"] is None
    assert all(
        p["stock"] == 0 and p["price"] == "9.00" for p in org.api(PRODUCTS, est=b)["products"]
    )

    allowed = users["with"](
        ADJUST,
        input={"productId": wax["id"], "delta": 3, "reason": "DELIVERY", "establishmentId": b},
    )
    result = _ok(allowed, "adjustStock")
    assert [e["id"] for e in result["establishments"]] == [b]
    assert result["product"]["stock"] == 3
    priced = _ok(
        users["with"](
            SET_PRICE, input={"productId": wax["id"], "price": "9.50", "establishmentId": b}
        ),
        "setProductPrice",
    )
    assert priced["product"]["price"] == "9.50"
    in_a = next(p for p in org.api(PRODUCTS, est=a)["products"] if p["id"] == wax["id"])
    assert (in_a["stock"], in_a["price"]) == (0, "9.00")


def test_B02_transfer_moves_both_sides_or_neither(gql: Gql) -> None:
    org, (a, b) = _chain(gql)
    spray = _ok(org.api(CREATE_PRODUCT, input={"name": "Spray", "price": "7.00"}), "createProduct")[
        "product"
    ]
    _ok(
        org.api(ADJUST, input={"productId": spray["id"], "delta": 8, "reason": "DELIVERY"}),
        "adjustStock",
    )
    moved = _ok(
        org.api(
            TRANSFER,
            input={
                "productId": spray["id"],
                "toEstablishmentId": b,
                "quantity": 3,
                "idempotencyKey": "t-1",
            },
        ),
        "transferStock",
    )
    assert (moved["from"]["stock"], moved["to"]["stock"]) == (5, 3)
    retried = _ok(
        org.api(
            TRANSFER,
            input={
                "productId": spray["id"],
                "toEstablishmentId": b,
                "quantity": 3,
                "idempotencyKey": "t-1",
            },
        ),
        "transferStock",
    )
    assert (retried["from"]["stock"], retried["to"]["stock"]) == (5, 3)  # counted once
    too_many = org.api(
        TRANSFER, input={"productId": spray["id"], "toEstablishmentId": b, "quantity": 6}
    )["transferStock"]
    assert [(e["code"], e["field"]) for e in too_many["errors"]] == [("OUT_OF_STOCK", "quantity")]
    same = org.api(
        TRANSFER, input={"productId": spray["id"], "toEstablishmentId": a, "quantity": 1}
    )["transferStock"]
    assert [(e["code"], e["field"]) for e in same["errors"]] == [("INVALID", "toEstablishmentId")]
    stocks = {
        p["establishment"]["id"]: p["stock"]
        for est in (a, b)
        for p in org.api(PRODUCTS, est=est)["products"]
    }
    assert stocks == {a: 5, b: 3}


def test_R25_menus_belong_to_their_establishment(gql: Gql) -> None:
    org, (a, b) = _chain(gql)
    cut = _cut(org)["service"]
    color = _ok(
        org.api(CREATE_SERVICE, input={"name": "Colour", "price": "60", "durationMinutes": 90}),
        "createService",
    )["service"]
    menu = _ok(
        org.api(
            CREATE_MENU,
            input={
                "name": "Cut & colour",
                "price": "89.00",
                "serviceIds": [cut["id"], color["id"]],
            },
        ),
        "createMenu",
    )["menu"]
    assert menu["establishment"]["id"] == a
    assert [s["id"] for s in menu["services"]] == [cut["id"], color["id"]]
    assert [m["id"] for m in org.api(MENUS)["menus"]] == [menu["id"]]
    _switch(org, b)
    assert org.api(MENUS)["menus"] == []
    refused = org.api(DELETE_MENU, input={"id": menu["id"]})["deleteMenu"]
    assert refused["errors"][0]["code"] == "NOT_FOUND"
    other = sign_up(gql)
    foreign = other.api(
        CREATE_MENU, input={"name": "Theirs", "price": "1", "serviceIds": [cut["id"]]}
    )["createMenu"]
    assert [(e["code"], e["field"]) for e in foreign["errors"]] == [("NOT_FOUND", "serviceIds")]
    _switch(org, a)
    _ok(org.api(DELETE_MENU, input={"id": menu["id"]}), "deleteMenu")
    assert org.api(MENUS)["menus"] == []


def test_R01_another_organization_cannot_see_or_touch_the_catalogue(gql: Gql) -> None:
    org, (a, _b) = _chain(gql)
    cut = _cut(org)["service"]
    gel = _ok(org.api(CREATE_PRODUCT, input={"name": "Gel", "price": "12.00"}), "createProduct")[
        "product"
    ]
    other = sign_up(gql)
    assert other.api(SERVICES)["services"] == []
    assert other.api(PRODUCTS)["products"] == []
    for document, variables, name in [
        (UPDATE_SERVICE, {"id": cut["id"], "price": "1"}, "updateService"),
        (DELETE_SERVICE, {"id": cut["id"]}, "deleteService"),
        (ADJUST, {"productId": gel["id"], "delta": 1, "reason": "DELIVERY"}, "adjustStock"),
        (SET_PRICE, {"productId": gel["id"], "price": "1"}, "setProductPrice"),
        (
            ADJUST,
            {"productId": gel["id"], "delta": 1, "reason": "DELIVERY", "establishmentId": a},
            "adjustStock",
        ),
    ]:
        errors = other.api(document, input=variables)[name]["errors"]
        assert errors and errors[0]["code"] == "NOT_FOUND", (name, errors)
    assert other.api.raw(SERVICES, {"est": a})["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert _service_in(org, a, cut["id"])["price"] == "40.00"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"price": "-1"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "1.234"}, "price"),
        ({"durationMinutes": 0}, "durationMinutes"),
        ({"durationMinutes": -30}, "durationMinutes"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_service_input_is_invalid_and_writes_nothing(
    gql: Gql, values: dict, field: str
) -> None:
    org = sign_up(gql)
    base = {"name": "Cut", "price": "40", "durationMinutes": 30}
    result = org.api(CREATE_SERVICE, input={**base, **values})["createService"]
    assert result["service"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", field)]
    assert org.api(SERVICES)["services"] == []


def test_bad_stock_input_is_refused_and_writes_nothing(gql: Gql) -> None:
    org, (a, _b) = _chain(gql)
    gel = _ok(org.api(CREATE_PRODUCT, input={"name": "Gel", "price": "12.00"}), "createProduct")[
        "product"
    ]
    for variables, code, field in [
        ({"productId": gel["id"], "delta": -1, "reason": "SALE"}, "OUT_OF_STOCK", "delta"),
        ({"productId": gel["id"], "delta": 0, "reason": "CORRECTION"}, "INVALID", "delta"),
        ({"productId": "unknown", "delta": 1, "reason": "DELIVERY"}, "NOT_FOUND", "productId"),
        (
            {
                "productId": gel["id"],
                "delta": 1,
                "reason": "DELIVERY",
                "establishmentId": "unknown",
            },
            "NOT_FOUND",
            "establishmentId",
        ),
    ]:
        errors = org.api(ADJUST, input=variables)["adjustStock"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [(code, field)], variables
    assert org.api(MOVEMENTS, p=gel["id"])["stockMovements"] == []
    assert org.api(PRODUCTS, est=a)["products"][0]["stock"] == 0


def test_a_product_list_with_stock_is_one_call_per_service_whatever_its_length(gql: Gql) -> None:
    org = sign_up(gql)
    for i in range(20):
        _ok(org.api(CREATE_PRODUCT, input={"name": f"P{i:02d}", "price": "1.00"}), "createProduct")
    body = org.api.raw(f"{{ products {{ {PRODUCT_FIELDS} }} }}")
    assert len(body["data"]["products"]) == 20
    assert body["extensions"]["backendCalls"] == {"catalog": 1, "inventory": 1}
