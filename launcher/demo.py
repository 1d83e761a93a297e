"""Demo data through the public API: a chain of three establishments, staff with rights,
and a shared client file. Seeded once per data folder."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

OWNER_EMAIL = "owner@demo.salon"
OWNER_PASSWORD = "demo-owner-1"  # noqa: S105 - a documented demo login

ESTABLISHMENTS = [
    ("Salon Demo Antwerpen", "Europe/Brussels"),
    ("Salon Demo Gent", "Europe/Brussels"),
    ("Salon Demo Brussel", "Europe/Brussels"),
]

STAFF = [
    # establishment index, e-mail, name, role, rights
    (0, "manager@demo.salon", "Mila Manager", "MANAGER", ["SWITCH_AGENDA", "SWITCH_REPORTS"]),
    (0, "lotte@demo.salon", "Lotte Stylist", "STAFF", []),
    (1, "lotte@demo.salon", "Lotte Stylist", "STAFF", ["SWITCH_AGENDA"]),
    (1, "jonas@demo.salon", "Jonas Colorist", "STAFF", []),
    (2, "manager@demo.salon", "Mila Manager", "MANAGER", ["MANAGE_OTHER_PRODUCTS"]),
    (2, "sara@demo.salon", "Sara Beautician", "STAFF", []),
]
STAFF_PASSWORD = "demo-staff-1"  # noqa: S105 - a documented demo login

FIRST = [
    "Emma",
    "Noah",
    "Louise",
    "Liam",
    "Olivia",
    "Arthur",
    "Mila",
    "Jules",
    "Elena",
    "Lucas",
    "Nora",
    "Victor",
    "Ella",
    "Finn",
    "Marie",
    "Adam",
    "Lena",
    "Louis",
    "Julia",
    "Rayan",
]
LAST = [
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "De Smet",
    "Dubois",
    "Lambert",
    "Dupont",
    "Martin",
    "Simon",
]


@dataclass
class Api:
    url: str
    client: httpx.Client
    token: str | None = None

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        reply = self.client.post(
            self.url, json={"query": query, "variables": variables}, headers=headers
        )
        reply.raise_for_status()
        body = reply.json()
        if body.get("errors"):
            raise RuntimeError(f"demo seeding failed: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data

    def mutate(self, query: str, name: str, **variables: Any) -> dict[str, Any]:
        payload = self(query, **variables)[name]
        if payload["errors"]:
            raise RuntimeError(f"demo seeding failed in {name}: {payload['errors']}")
        result: dict[str, Any] = payload
        return result


SIGN_UP = """mutation($input: SignUpInput!) { signUp(input: $input) {
  session { token establishment { id } } errors { field code message } } }"""
CREATE_EST = """mutation($input: CreateEstablishmentInput!) { createEstablishment(input: $input) {
  establishment { id name } errors { field code message } } }"""
SWITCH = """mutation($input: SwitchEstablishmentInput!) { switchEstablishment(input: $input) {
  session { token } errors { field code message } } }"""
ADD_MEMBER = """mutation($input: AddMemberInput!) { addMember(input: $input) {
  user { id } errors { field code message } } }"""
CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id } errors { field code message } } }"""
CREATE_SERVICE = """mutation($input: CreateServiceInput!) { createService(input: $input) {
  service { id } errors { field code message } } }"""
UPDATE_SERVICE = """mutation($input: UpdateServiceInput!) { updateService(input: $input) {
  service { id } errors { field code message } } }"""
CREATE_PRODUCT = """mutation($input: CreateProductInput!) { createProduct(input: $input) {
  product { id } errors { field code message } } }"""
SET_PRICE = """mutation($input: SetProductPriceInput!) { setProductPrice(input: $input) {
  product { id } errors { field code message } } }"""
ADJUST_STOCK = """mutation($input: AdjustStockInput!) { adjustStock(input: $input) {
  product { id } errors { field code message } } }"""
SET_HOURS = """mutation($input: SetOpeningHoursInput!) { setOpeningHours(input: $input) {
  establishment { id } errors { field code message } } }"""
BOOK = """mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) {
  appointment { id } errors { field code message } } }"""
ASSIGN_TERMINAL = """mutation($input: AssignTerminalInput!) { assignPaymentTerminal(input: $input) {
  terminal { id } errors { field code message } } }"""
LOYALTY = """mutation($input: CreateLoyaltyCardInput!) { createLoyaltyCard(input: $input) {
  loyaltyCard { id } errors { field code message } } }"""
GIFT_CARD = """mutation($input: IssueGiftCardInput!) { issueGiftCard(input: $input) {
  giftCard { code } errors { field code message } } }"""
SUBSCRIPTION = """mutation($input: SellSubscriptionInput!) { sellSubscription(input: $input) {
  subscription { id } errors { field code message } } }"""
CHECKOUT = """mutation($input: CheckoutInput!) { checkout(input: $input) {
  receipt { id number } errors { field code message } } }"""
WEEK = [{"weekday": d, "opens": "09:00", "closes": "18:00"} for d in range(1, 7)]
CREATE_MENU = """mutation($input: CreateMenuInput!) { createMenu(input: $input) {
  menu { id } errors { field code message } } }"""
SET_WEBSHOP = """mutation($input: SetWebshopInput!) { setWebshop(input: $input) {
  webshop { enabled } errors { field code message } } }"""
SET_PROFILE = """mutation($input: SetWebsiteProfileInput!) { setWebsiteProfile(input: $input) {
  websiteProfile { description } errors { field code message } } }"""
CREATE_FORM = """mutation($input: CreateFormInput!) { createForm(input: $input) {
  form { id } errors { field code message } } }"""
SUBMIT_FORM = """mutation($input: SubmitFormAnswersInput!) { submitFormAnswers(input: $input) {
  formResponse { id } errors { field code message } } }"""
# R29: each establishment's street and postal code; the city is its name's last word.
ADDRESSES = [("Meir 12", "2000"), ("Veldstraat 5", "9000"), ("Louizalaan 80", "1050")]
INTAKE_FIELDS = [
    {
        "key": "hair_type",
        "label": "Hair type",
        "type": "CHOICE",
        "required": True,
        "options": ["fine", "normal", "thick", "curly"],
    },
    {"key": "allergies", "label": "Allergies", "type": "TEXT"},
    {"key": "patch_test", "label": "Patch test done on", "type": "DATE"},
]

# name, category, price, minutes
SERVICES = [
    ("Cut", "Hair", "40.00", 30),
    ("Cut & blow-dry", "Hair", "55.00", 45),
    ("Colour", "Colour", "65.00", 90),
    ("Highlights", "Colour", "95.00", 120),
    ("Beard trim", "Barber", "20.00", 20),
    ("Manicure", "Beauty", "35.00", 40),
]
# name, brand, barcode, price
PRODUCTS = [
    ("Repair shampoo", "Kérastase", "3474636397", "24.50"),
    ("Volume conditioner", "Kérastase", "3474636404", "26.00"),
    ("Styling wax", "Redken", "884486151", "18.00"),
    ("Heat protect spray", "L'Oréal", "3474630652", "21.50"),
    ("Nail oil", "OPI", "094100000", "12.00"),
]


def _next_open_day(timezone: str) -> date:
    """Tomorrow, or Monday when tomorrow is a Sunday (closed)."""
    day = datetime.now(ZoneInfo(timezone)).date() + timedelta(days=1)
    return day + timedelta(days=1) if day.isoweekday() == 7 else day


def _price(api: Api, field: str, item_id: str) -> Decimal:
    """The session establishment's price of a service or product. A new establishment gets
    the shared services through an event, a moment after it is created: wait for it."""
    deadline = time.monotonic() + 15
    while True:
        for item in api(f"{{ {field} {{ id price }} }}")[field]:
            if item["id"] == item_id:
                return Decimal(item["price"])
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"demo seeding failed: {item_id} not in this establishment's {field}"
            )
        time.sleep(0.2)


def seed(graphql_url: str, data_dir: Path) -> bool:
    """Seed once; False when this data folder was already seeded."""
    marker = data_dir / "demo-seeded"
    if marker.exists():
        return False
    rng = random.Random(42)  # noqa: S311 - demo names, not secrets
    with httpx.Client(timeout=30) as http:
        api = Api(graphql_url, http)
        signed = api.mutate(
            SIGN_UP,
            "signUp",
            input={
                "organizationName": "Salon Demo",
                "establishmentName": ESTABLISHMENTS[0][0],
                "timezone": ESTABLISHMENTS[0][1],
                "email": OWNER_EMAIL,
                "name": "Olivia Owner",
                "password": OWNER_PASSWORD,
            },
        )
        api.token = signed["session"]["token"]
        est_ids = [signed["session"]["establishment"]["id"]]
        gift_code = ""
        for name, tz in ESTABLISHMENTS[1:]:
            created = api.mutate(
                CREATE_EST, "createEstablishment", input={"name": name, "timezone": tz}
            )
            est_ids.append(created["establishment"]["id"])
        services = [
            api.mutate(
                CREATE_SERVICE,
                "createService",
                input={
                    "name": name,
                    "category": category,
                    "price": price,
                    "durationMinutes": minutes,
                },
            )["service"]["id"]
            for name, category, price, minutes in SERVICES
        ]
        products = [
            api.mutate(
                CREATE_PRODUCT,
                "createProduct",
                input={
                    "name": name,
                    "brand": brand,
                    "barcode": barcode,
                    "price": price,
                },
            )["product"]["id"]
            for name, brand, barcode, price in PRODUCTS
        ]
        for index, est_id in enumerate(est_ids):
            api.mutate(SWITCH, "switchEstablishment", input={"establishmentId": est_id})
            if index == 1:  # Gent: a dearer cut and its own shampoo price (R12, R13)
                api.mutate(
                    UPDATE_SERVICE, "updateService", input={"id": services[0], "price": "45.00"}
                )
                api.mutate(
                    SET_PRICE, "setProductPrice", input={"productId": products[0], "price": "25.00"}
                )
            for product_id in products:
                api.mutate(
                    ADJUST_STOCK,
                    "adjustStock",
                    input={
                        "productId": product_id,
                        "delta": rng.randint(3, 25),
                        "reason": "DELIVERY",
                    },
                )
            api.mutate(
                CREATE_MENU,
                "createMenu",
                input={
                    "name": "Cut & colour",
                    "price": "95.00",
                    "serviceIds": services[:3:2],
                },
            )
            api.mutate(SET_HOURS, "setOpeningHours", input={"hours": WEEK})
            # R29: a webshop (on in all but the last establishment), a profile, a form.
            api.mutate(
                SET_WEBSHOP,
                "setWebshop",
                input={"enabled": index < len(est_ids) - 1, "productIds": products[: 3 + index]},
            )
            street, postal_code = ADDRESSES[index % len(ADDRESSES)]
            city = ESTABLISHMENTS[index][0].rsplit(" ", 1)[-1]
            api.mutate(
                SET_PROFILE,
                "setWebsiteProfile",
                input={
                    "description": f"Hair and beauty in {city}.",
                    "address": {
                        "street": street,
                        "postalCode": postal_code,
                        "city": city,
                        "country": "BE",
                    },
                    "email": f"{city.lower()}@demo.salon",
                    "photoUrls": [f"https://images.demo.salon/{city.lower()}/front.jpg"],
                },
            )
            intake = api.mutate(
                CREATE_FORM, "createForm", input={"name": "Intake", "fields": INTAKE_FIELDS}
            )["form"]["id"]
            staff_ids = []
            for est_index, email, name, role, rights in STAFF:
                if est_index == index:
                    member = api.mutate(
                        ADD_MEMBER,
                        "addMember",
                        input={
                            "email": email,
                            "name": name,
                            "password": STAFF_PASSWORD,
                            "role": role,
                            "rights": rights,
                        },
                    )
                    staff_ids.append(member["user"]["id"])
            client_ids = []
            for _ in range(12):
                first, last = rng.choice(FIRST), rng.choice(LAST)
                number = rng.randint(1000000, 9999999)
                created_client = api.mutate(
                    CREATE_CLIENT,
                    "createClient",
                    input={
                        "firstName": first,
                        "lastName": last,
                        "email": f"{first}.{last}.{number}@example.com".lower().replace(" ", ""),
                        "phone": f"+32470{number % 1000000:06d}",
                    },
                )
                client_ids.append(created_client["client"]["id"])
            api.mutate(
                SUBMIT_FORM,
                "submitFormAnswers",
                input={
                    "formId": intake,
                    "clientId": client_ids[0],
                    "answers": [
                        {"key": "hair_type", "value": "curly"},
                        {"key": "allergies", "value": "none known"},
                    ],
                },
            )
            # The till (R14, R23, R24, R28, R31): a terminal, a loyalty card, today's first
            # receipt; a gift card sold in the first establishment is spent in the last (B08).
            api.mutate(
                ASSIGN_TERMINAL,
                "assignPaymentTerminal",
                input={"serial": "DEMO-TERMINAL-1", "name": "Counter"},
            )
            api.mutate(LOYALTY, "createLoyaltyCard", input={"clientId": client_ids[0]})
            api.mutate(
                SUBSCRIPTION,
                "sellSubscription",
                input={
                    "clientId": client_ids[1],
                    "name": "10 blow-dries",
                    "visits": 10,
                    "price": "250.00",
                },
            )
            if index == 0:
                gift_code = api.mutate(
                    GIFT_CARD,
                    "issueGiftCard",
                    input={"amount": "50.00", "kind": "GENERAL", "clientId": client_ids[2]},
                )["giftCard"]["code"]
            total = _price(api, "services", services[0]) + _price(api, "products", products[0])
            gift_part = Decimal("20.00") if index == len(est_ids) - 1 else Decimal(0)
            payments = [{"method": "CARD", "amount": str(total - gift_part)}]
            if gift_part:
                payments.append(
                    {"method": "GIFT_CARD", "amount": str(gift_part), "giftCardCode": gift_code}
                )
            api.mutate(
                CHECKOUT,
                "checkout",
                input={
                    "clientId": client_ids[0],
                    "lines": [
                        {"serviceId": services[0], "quantity": 1},
                        {"productId": products[0], "quantity": 1},
                    ],
                    "payments": payments,
                    "idempotencyKey": f"demo-{index}",
                },
            )
            # Tomorrow's agenda (or Monday's): a few appointments per staff member, an hour
            # apart between establishments, as Lotte and Mila work in two of them (B09).
            day = _next_open_day(ESTABLISHMENTS[index][1])
            for slot, client_id in enumerate(client_ids[:6]):
                hour = 9 + slot // len(staff_ids) * 3 + index
                start = datetime(
                    day.year, day.month, day.day, hour, 0, tzinfo=ZoneInfo(ESTABLISHMENTS[index][1])
                )
                api.mutate(
                    BOOK,
                    "bookAppointment",
                    input={
                        "clientId": client_id,
                        "serviceId": services[slot % 2],
                        "start": start.isoformat(),
                        "staffId": staff_ids[slot % len(staff_ids)],
                    },
                )
    marker.write_text("seeded\n")
    return True


def logins() -> list[tuple[str, str, str]]:
    rows = [(OWNER_EMAIL, OWNER_PASSWORD, "OWNER of all three establishments")]
    seen: dict[str, list[str]] = {}
    for est_index, email, _name, role, rights in STAFF:
        where = ESTABLISHMENTS[est_index][0].removeprefix("Salon Demo ")
        seen.setdefault(email, []).append(
            f"{role} in {where}" + (f" ({', '.join(rights)})" if rights else "")
        )
    rows += [(email, STAFF_PASSWORD, "; ".join(parts)) for email, parts in seen.items()]
    return rows
