"""R29 in the catalog service's gRPC API: the webshop settings and the mini-website
profile of the session establishment, and their public side.

Reads and writes act on the session establishment of the signed scope only (R07): there is
no argument that names another. Writes are for owners and managers (the role of the
session's membership), serialized per establishment, and publish what they changed in the
same transaction. The public RPCs (no user) read the establishment the gateway vouched for:
its profile, and its webshop only when it is on.
"""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from salon.catalog.v1 import catalog_pb2, events_pb2
from services.catalog.api.privacy import PrivacyCatalogServicer
from services.catalog.api.servicer import (
    _read_establishment,
    _session_establishment,
    product_to_proto,
)
from services.catalog.domain import website
from services.catalog.store import website_repository as repo
from services.catalog.store.tables import outbox
from services.common.db import utcnow
from services.common.errors import invalid
from services.common.events import EventType
from services.common.outbox import record_event
from services.common.scope import current_scope

WEBSHOP_UPDATED = EventType("catalog", "webshop", "updated")
WEBSITE_PROFILE_UPDATED = EventType("catalog", "website_profile", "updated")


def webshop_to_proto(shop: website.Webshop) -> catalog_pb2.Webshop:
    msg = catalog_pb2.Webshop(
        establishment_id=shop.establishment_id,
        enabled=shop.enabled,
        product_ids=shop.product_ids,
    )
    if shop.updated_at is not None:
        msg.updated_at.CopyFrom(_ts(shop.updated_at))
    return msg


def profile_to_proto(profile: website.WebsiteProfile) -> catalog_pb2.WebsiteProfile:
    msg = catalog_pb2.WebsiteProfile(
        establishment_id=profile.establishment_id,
        description=profile.description,
        phone=profile.phone,
        email=profile.email,
        photo_urls=profile.photo_urls,
    )
    if profile.address is not None:
        a = profile.address
        msg.address.CopyFrom(
            catalog_pb2.Address(
                street=a.street, postal_code=a.postal_code, city=a.city, country=a.country
            )
        )
    if profile.updated_at is not None:
        msg.updated_at.CopyFrom(_ts(profile.updated_at))
    return msg


def _ts(value: object) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)  # type: ignore[arg-type]
    return ts


class WebsiteCatalogServicer(PrivacyCatalogServicer):
    async def GetWebshop(
        self, request: catalog_pb2.GetWebshopRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.Webshop:
        scope = current_scope()
        async with self.ctx.db.read() as session:
            shop = await repo.get_webshop(session, scope.organization_id, scope.establishment_id)
        return webshop_to_proto(shop)

    async def SetWebshop(
        self, request: catalog_pb2.SetWebshopRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.WebshopChange:
        scope = current_scope()
        website.check_may_change_website(scope.role)
        change = website.check_webshop_change(
            request.enabled if request.HasField("enabled") else None,
            list(request.product_ids) if request.set_product_ids else None,
        )
        org = scope.organization_id
        async with self.ctx.db.write() as session:
            here = await _session_establishment(session, scope)
            await repo.lock(session, org, here)
            current = await repo.get_webshop(session, org, here)
            changed = website.webshop_changes(current, change)
            if changed:
                await repo.set_webshop(session, org, here, change, scope.user_id, utcnow())
                current = await repo.get_webshop(session, org, here)
            message = webshop_to_proto(current)
            if changed:
                await record_event(
                    session,
                    outbox,
                    WEBSHOP_UPDATED,
                    events_pb2.WebshopUpdated(webshop=message, changed_fields=changed),
                    scope,
                    establishment_id=here,
                )
        if changed:
            self.ctx.wake_relay()
        return catalog_pb2.WebshopChange(webshop=message, establishment_ids=[here])

    async def GetWebsiteProfile(
        self, request: catalog_pb2.GetWebsiteProfileRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.WebsiteProfile:
        scope = current_scope()
        async with self.ctx.db.read() as session:
            profile = await repo.get_profile(session, scope.organization_id, scope.establishment_id)
        return profile_to_proto(profile)

    async def SetWebsiteProfile(
        self, request: catalog_pb2.SetWebsiteProfileRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.WebsiteProfileChange:
        scope = current_scope()
        website.check_may_change_website(scope.role)
        address = None
        if request.HasField("address"):
            a = request.address
            address = (a.street, a.postal_code, a.city, a.country)
        change = website.check_profile_change(
            request.description if request.HasField("description") else None,
            address,
            request.phone if request.HasField("phone") else None,
            request.email if request.HasField("email") else None,
            list(request.photo_urls) if request.set_photo_urls else None,
        )
        org = scope.organization_id
        async with self.ctx.db.write() as session:
            here = await _session_establishment(session, scope)
            await repo.lock(session, org, here)
            current = await repo.get_profile(session, org, here)
            changed = website.profile_changes(current, change)
            if changed:
                await repo.set_profile(session, org, here, current, change, scope.user_id, utcnow())
                current = await repo.get_profile(session, org, here)
            message = profile_to_proto(current)
            if changed:
                await record_event(
                    session,
                    outbox,
                    WEBSITE_PROFILE_UPDATED,
                    events_pb2.WebsiteProfileUpdated(profile=message, changed_fields=changed),
                    scope,
                    establishment_id=here,
                )
        if changed:
            self.ctx.wake_relay()
        return catalog_pb2.WebsiteProfileChange(profile=message, establishment_ids=[here])

    # -- public (no user): the establishment the gateway vouched for ----------------------

    async def PublicWebsiteProfile(
        self, request: catalog_pb2.PublicWebsiteRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.WebsiteProfile:
        scope = current_scope()
        if not request.establishment_id:
            raise invalid("establishmentId", "must not be empty")
        async with self.ctx.db.read() as session:
            est = await _read_establishment(session, scope, request.establishment_id, None)
            profile = await repo.get_profile(session, scope.organization_id, est)
        return profile_to_proto(profile)

    async def PublicWebshop(
        self, request: catalog_pb2.PublicWebsiteRequest, context: grpc.aio.ServicerContext
    ) -> catalog_pb2.PublicWebshopResponse:
        scope = current_scope()
        if not request.establishment_id:
            raise invalid("establishmentId", "must not be empty")
        async with self.ctx.db.read() as session:
            est = await _read_establishment(session, scope, request.establishment_id, None)
            sold = await repo.products_sold_online(session, scope.organization_id, est)
        if sold is None:
            return catalog_pb2.PublicWebshopResponse(enabled=False)
        return catalog_pb2.PublicWebshopResponse(
            enabled=True, products=[product_to_proto(p) for p in sold]
        )
