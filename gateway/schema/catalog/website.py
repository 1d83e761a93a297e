"""R29 in the catalogue: the session establishment's webshop settings and mini-website
profile (read by staff, set by its owners and managers), and their public side without a
session: one establishment's profile, and its webshop only when it is on."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.schema.base import AUTHENTICATED, Money, UserError, user_errors
from gateway.schema.booking.public import enter_query
from gateway.schema.catalog.types import Product
from gateway.schema.tenancy.types import Establishment, load_establishment, load_establishments
from salon.catalog.v1 import catalog_pb2
from services.common.errors import DomainError


def _at(msg: catalog_pb2.Webshop | catalog_pb2.WebsiteProfile) -> datetime | None:
    if not msg.HasField("updated_at"):
        return None
    return msg.updated_at.ToDatetime(tzinfo=UTC)  # type: ignore[no-any-return]


async def _establishment(info: Info[Context, None], establishment_id: str) -> Establishment:
    est = await load_establishment(info, establishment_id)
    assert est is not None
    return est


@strawberry.type(description="R29: the webshop of one establishment.")
class Webshop:
    enabled: bool
    updated_at: datetime | None = strawberry.field(description="null until first set.")
    product_ids: strawberry.Private[list[str]]
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: catalog_pb2.Webshop) -> Webshop:
        return cls(
            enabled=msg.enabled,
            updated_at=_at(msg),
            product_ids=list(msg.product_ids),
            establishment_id=msg.establishment_id,
        )

    @strawberry.field(
        description="The products sold online there, in the order set, with its price."
    )
    async def products(self, info: Info[Context, None]) -> list[Product]:
        rows = await info.context.loaders.product_by_key.load_many(
            [(self.establishment_id, pid) for pid in self.product_ids]
        )
        return [Product.of(r) for r in rows if r is not None]

    @strawberry.field
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        return await _establishment(info, self.establishment_id)


@strawberry.type
class Address:
    street: str
    postal_code: str
    city: str
    country: str = strawberry.field(description='ISO 3166-1 alpha-2, e.g. "BE".')


@strawberry.type(description="R29: the public mini-website profile of one establishment.")
class WebsiteProfile:
    description: str | None
    address: Address | None
    phone: str | None = strawberry.field(description="E.164, e.g. +32470123456")
    email: str | None
    photo_urls: list[str] = strawberry.field(description="https URLs, in the order set.")
    updated_at: datetime | None = strawberry.field(description="null until first set.")
    establishment_id: strawberry.Private[str]

    @classmethod
    def of(cls, msg: catalog_pb2.WebsiteProfile) -> WebsiteProfile:
        a = msg.address
        return cls(
            description=msg.description or None,
            address=Address(
                street=a.street, postal_code=a.postal_code, city=a.city, country=a.country
            )
            if msg.HasField("address")
            else None,
            phone=msg.phone or None,
            email=msg.email or None,
            photo_urls=list(msg.photo_urls),
            updated_at=_at(msg),
            establishment_id=msg.establishment_id,
        )

    @strawberry.field
    async def establishment(self, info: Info[Context, None]) -> Establishment:
        return await _establishment(info, self.establishment_id)


@strawberry.type(description="A product as an establishment's public webshop shows it.")
class WebshopProduct:
    id: strawberry.ID
    name: str
    brand: str | None
    price: Money = strawberry.field(description="That establishment's price (R13).")


@strawberry.type(description="R29: an establishment's webshop, shown only when it is on.")
class PublicWebshop:
    establishment: Establishment
    products: list[WebshopProduct]


# -- staff ------------------------------------------------------------------------------


@strawberry.input(
    description="The session establishment's webshop (R07, R29); absent fields stay as "
    "they are. productIds replaces the products sold online (products of the organization)."
)
class SetWebshopInput:
    enabled: bool | None = None
    product_ids: list[strawberry.ID] | None = None


@strawberry.input
class AddressInput:
    street: str
    postal_code: str
    city: str
    country: str


@strawberry.input(
    description="The session establishment's profile (R07, R29); absent fields stay as "
    "they are, an empty description, phone or email clears it, address: null removes it, "
    "photoUrls (https, at most 20) replaces the photos."
)
class SetWebsiteProfileInput:
    description: str | None = strawberry.UNSET
    address: AddressInput | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    photo_urls: list[str] | None = strawberry.UNSET


@strawberry.type
class SetWebshopPayload:
    webshop: Webshop | None = None
    establishments: list[Establishment] = strawberry.field(
        default_factory=list, description="The one changed: the session establishment (R07)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SetWebsiteProfilePayload:
    website_profile: WebsiteProfile | None = None
    establishments: list[Establishment] = strawberry.field(
        default_factory=list, description="The one changed: the session establishment (R07)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


def _given(value: object) -> bool:
    return value is not strawberry.UNSET


@strawberry.type
class WebsiteQuery:
    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="The session establishment's webshop settings (R29).",
    )
    async def webshop(self, info: Info[Context, None]) -> Webshop:
        ctx = info.context
        reply = await ctx.call(
            "catalog", ctx.state.backends.catalog.GetWebshop, catalog_pb2.GetWebshopRequest()
        )
        return Webshop.of(reply)

    @strawberry.field(
        permission_classes=AUTHENTICATED,
        description="The session establishment's mini-website profile (R29).",
    )
    async def website_profile(self, info: Info[Context, None]) -> WebsiteProfile:
        ctx = info.context
        reply = await ctx.call(
            "catalog",
            ctx.state.backends.catalog.GetWebsiteProfile,
            catalog_pb2.GetWebsiteProfileRequest(),
        )
        return WebsiteProfile.of(reply)

    @strawberry.field(
        description="Public, no session: an establishment's mini-website profile (R29)."
    )
    async def public_website_profile(
        self, info: Info[Context, None], establishment_id: strawberry.ID
    ) -> WebsiteProfile:
        ctx = info.context
        est = await enter_query(info, establishment_id)
        reply = await ctx.call(
            "catalog",
            ctx.state.backends.catalog.PublicWebsiteProfile,
            catalog_pb2.PublicWebsiteRequest(establishment_id=est),
        )
        return WebsiteProfile.of(reply)

    @strawberry.field(
        description="Public, no session: an establishment's webshop with its prices, "
        "null when its webshop is off (R29)."
    )
    async def public_webshop(
        self, info: Info[Context, None], establishment_id: strawberry.ID
    ) -> PublicWebshop | None:
        ctx = info.context
        est = await enter_query(info, establishment_id)
        reply = await ctx.call(
            "catalog",
            ctx.state.backends.catalog.PublicWebshop,
            catalog_pb2.PublicWebsiteRequest(establishment_id=est),
        )
        if not reply.enabled:
            return None
        return PublicWebshop(
            establishment=await _establishment(info, est),
            products=[
                WebshopProduct(
                    id=strawberry.ID(p.id), name=p.name, brand=p.brand or None, price=p.price
                )
                for p in reply.products
            ],
        )


@strawberry.type
class WebsiteMutation:
    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="OWNER or MANAGER of the session establishment; changes it only (R29).",
    )
    async def set_webshop(
        self, info: Info[Context, None], input: SetWebshopInput
    ) -> SetWebshopPayload:
        ctx = info.context
        request = catalog_pb2.SetWebshopRequest()
        if input.enabled is not None:
            request.enabled = input.enabled
        if input.product_ids is not None:
            request.set_product_ids = True
            request.product_ids.extend(str(i) for i in input.product_ids)
        try:
            change = await ctx.call("catalog", ctx.state.backends.catalog.SetWebshop, request)
        except DomainError as exc:
            return SetWebshopPayload(errors=user_errors(exc))
        return SetWebshopPayload(
            webshop=Webshop.of(change.webshop),
            establishments=await load_establishments(info, list(change.establishment_ids)),
        )

    @strawberry.mutation(
        permission_classes=AUTHENTICATED,
        description="OWNER or MANAGER of the session establishment; changes it only (R29).",
    )
    async def set_website_profile(
        self, info: Info[Context, None], input: SetWebsiteProfileInput
    ) -> SetWebsiteProfilePayload:
        ctx = info.context
        request = catalog_pb2.SetWebsiteProfileRequest()
        if _given(input.description):
            request.description = input.description or ""
        if _given(input.address):
            a = input.address
            request.address.CopyFrom(
                catalog_pb2.Address(
                    street=a.street, postal_code=a.postal_code, city=a.city, country=a.country
                )
                if a is not None
                else catalog_pb2.Address()
            )
        if _given(input.phone):
            request.phone = input.phone or ""
        if _given(input.email):
            request.email = input.email or ""
        if _given(input.photo_urls):
            request.set_photo_urls = True
            request.photo_urls.extend(input.photo_urls or [])
        try:
            change = await ctx.call(
                "catalog", ctx.state.backends.catalog.SetWebsiteProfile, request
            )
        except DomainError as exc:
            return SetWebsiteProfilePayload(errors=user_errors(exc))
        return SetWebsiteProfilePayload(
            website_profile=WebsiteProfile.of(change.profile),
            establishments=await load_establishments(info, list(change.establishment_ids)),
        )
