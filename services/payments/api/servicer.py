"""gRPC API of the till: protobuf in, domain calls, protobuf out.

- Deposits (R17): recorded for the appointment's establishment, applied by checkouts.
- Checkout (R28): the saga of domain/checkout.py, with the catalogue, booking, inventory
  and this service's database as its collaborators (api/till.py).
- Gift cards (R14), subscriptions (R24), receipts, the settlement report (B08).

Writes act on the session establishment of the signed scope; each records its events in
the same transaction and wakes the relay after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

import grpc
from sqlalchemy.ext.asyncio import AsyncConnection

from salon.payments.v1 import events_pb2, payments_pb2, payments_pb2_grpc
from services.common import access
from services.common.errors import DomainError, ErrorCode, not_found
from services.common.events import EventType
from services.common.money import format_amount
from services.common.outbox import record_event
from services.common.runtime import ServiceContext
from services.common.scope import Right, Scope, current_scope
from services.payments.api import provider
from services.payments.api.convert import (
    deposit_to_proto,
    deposits_to_proto,
    gift_card_kind_name,
    gift_card_to_proto,
    gift_cards_to_proto,
    payment_method_name,
    receipt_to_proto,
    receipts_to_proto,
    status_to_proto,
    subscription_to_proto,
)
from services.payments.api.till import (
    GIFT_CARD_ISSUED,
    SUBSCRIPTION_SOLD,
    DbTill,
    GrpcAppointments,
    GrpcCatalog,
    GrpcStock,
)
from services.payments.domain import cards, checkout, model
from services.payments.provider import model as provider_model
from services.payments.store import (
    cards_repository,
    provider_repository,
    repository,
    till_repository,
)
from services.payments.store.tables import known_establishments, outbox

DEPOSIT_PAID = EventType("payments", "deposit", "paid")

# Kept importable from here (other parts of the service use them).
__all__ = ["DEPOSIT_PAID", "PaymentsServicer", "deposit_to_proto", "status_to_proto"]


async def _readable_target(
    session: AsyncConnection, scope: Scope, requested: str, right: Right | None
) -> str:
    """access.target_establishment without its writes, so that it may run in a read
    transaction (an SQLite reader must not write): the session establishment as is; one
    the gateway vouched for in this request without remembering it; any other one must be
    known in the organization (NOT_FOUND otherwise, R01). Then FORBIDDEN without the right."""
    if not requested or requested == scope.establishment_id:
        return scope.establishment_id
    if requested not in scope.verified_establishments:
        return await access.target_establishment(
            session, known_establishments, scope, requested, right
        )
    if right is not None and not scope.has_right(right):
        raise DomainError(
            ErrorCode.FORBIDDEN,
            f"{right.value} is needed to act on another establishment",
            "establishmentId",
        )
    return requested


async def _local_now(
    session: AsyncConnection, organization_id: str, establishment_id: str
) -> datetime:
    tz = cards.zone(
        await cards_repository.establishment_timezone(session, organization_id, establishment_id)
    )
    return datetime.now(tz)


def _client_ids(client_id: str, client_ids: Sequence[str]) -> list[str]:
    """One client (client_id) or a list's clients (client_ids, each once, at most
    model.MAX_BATCH): the client record's reads, batched for a list of clients."""
    if client_ids:
        if client_id:
            raise DomainError(ErrorCode.INVALID, "give client_id or client_ids", "clientIds")
        if len(client_ids) > model.MAX_BATCH:
            raise DomainError(
                ErrorCode.INVALID, f"at most {model.MAX_BATCH} ids per call", "clientIds"
            )
        return [model.check_client_id(c) for c in dict.fromkeys(client_ids)]
    return [model.check_client_id(client_id)]


async def _with_checkout_urls(
    conn: AsyncConnection, organization_id: str, deposits: list[model.Deposit]
) -> payments_pb2.GetDepositsResponse:
    """The deposits, the PENDING ones with where the client pays them (R32)."""
    answer = deposits_to_proto(deposits)
    pending = [d.id for d in deposits if d.status is model.DepositStatus.PENDING]
    if pending:
        urls = await provider_repository.checkout_urls(conn, organization_id, pending)
        for message in answer.deposits:
            message.checkout_url = urls.get(message.id, "")
    return answer


class PaymentsServicer(provider.ProviderApi, payments_pb2_grpc.PaymentsServiceServicer):
    """The till's RPCs here; terminals, the provider connection and reports in
    provider.ProviderApi (it comes first, before the generated UNIMPLEMENTED methods)."""

    def __init__(self, ctx: ServiceContext, saga: checkout.CheckoutSaga | None = None) -> None:
        self.ctx = ctx
        self.saga = saga or checkout.CheckoutSaga(
            GrpcCatalog(ctx), GrpcAppointments(ctx), GrpcStock(ctx), DbTill(ctx.db, ctx.wake_relay)
        )

    # -- deposits (R17) -------------------------------------------------------------------

    async def RecordDeposit(
        self, request: payments_pb2.RecordDepositRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.Deposit:
        scope = current_scope()
        appointment_id = model.check_appointment_id(request.appointment_id)
        client_id = model.check_client_id(request.client_id)
        amount = model.check_amount(request.amount)
        redirect_url = (
            provider_model.check_redirect_url(request.redirect_url) if request.redirect_url else ""
        )
        # R17: the deposit belongs to the appointment's establishment. The caller (the
        # booking service, booking the appointment) acts in that establishment, so it is the
        # scope's session establishment, never one named in the request.
        establishment_id = scope.establishment_id
        async with self.ctx.db.write() as session:
            # R32: with a provider connected there, the client pays it there (PENDING until
            # the provider's webhook says paid); without one it counts as paid on booking.
            connection = await provider_repository.get_connection(
                session, scope.organization_id, establishment_id
            )
            status = model.DepositStatus.PENDING if connection else model.DepositStatus.PAID
            deposit, created = await repository.record_deposit(
                session,
                scope.organization_id,
                establishment_id,
                appointment_id,
                client_id,
                amount,
                status,
            )
            message = deposit_to_proto(deposit)
            if created and deposit.status is model.DepositStatus.PAID:
                # A retry answers the first deposit and publishes nothing.
                await record_event(
                    session,
                    outbox,
                    DEPOSIT_PAID,
                    events_pb2.DepositPaid(deposit=message),
                    scope,
                    establishment_id=deposit.establishment_id,
                )
        if created and deposit.status is model.DepositStatus.PAID:
            self.ctx.wake_relay()
        if deposit.status is not model.DepositStatus.PENDING:
            return message
        async with self.ctx.db.read() as reader:
            urls = await provider_repository.checkout_urls(
                reader, scope.organization_id, [deposit.id]
            )
        if deposit.id in urls:  # a retry: the payment exists already
            message.checkout_url = urls[deposit.id]
            return message
        # The provider is asked outside any write transaction (it may take seconds); the
        # deposit id is its idempotency key, so a retry after a timeout finds the same payment.
        started = await provider.start_provider_payment(
            self.ctx,
            None,
            scope.organization_id,
            establishment_id,
            deposit.id,
            amount,
            f"Deposit for appointment {appointment_id}",
            redirect_url,
        )
        if started is not None:
            message.checkout_url = started[1]
        return message

    async def GetDepositsByAppointments(
        self,
        request: payments_pb2.GetDepositsByAppointmentsRequest,
        context: grpc.aio.ServicerContext,
    ) -> payments_pb2.GetDepositsResponse:
        # The batch read behind appointments and receipts: on a receipt a deposit is shown
        # and applied whatever establishment checks out (R17), so any establishment of the
        # organization.
        scope = current_scope()
        appointment_ids = model.check_appointment_ids(request.appointment_ids)
        async with self.ctx.db.read() as session:
            deposits = await repository.get_by_appointments(
                session, scope.organization_id, appointment_ids
            )
            return await _with_checkout_urls(session, scope.organization_id, deposits)

    async def ListClientDeposits(
        self, request: payments_pb2.ListClientDepositsRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.GetDepositsResponse:
        # R17: the client record shows a deposit only in the appointment's establishment,
        # so only the session establishment's deposits, whatever the caller's rights.
        scope = current_scope()
        client_ids = _client_ids(request.client_id, request.client_ids)
        async with self.ctx.db.read() as session:
            deposits = await repository.list_client_deposits(
                session, scope.organization_id, scope.establishment_id, client_ids
            )
            return await _with_checkout_urls(session, scope.organization_id, deposits)

    # -- checkout and receipts (R28) ------------------------------------------------------

    async def Checkout(
        self, request: payments_pb2.CheckoutRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.Receipt:
        scope = current_scope()
        checked = checkout.check_checkout(
            client_id=request.client_id,
            appointment_id=request.appointment_id,
            lines=[(ln.service_id, ln.product_id, ln.quantity) for ln in request.lines],
            payments=[
                (payment_method_name(p.method), p.amount, p.gift_card_code, p.subscription_id)
                for p in request.payments
            ],
            apply_deposits=request.apply_deposits,
            idempotency_key=request.idempotency_key,
        )
        try:
            receipt = await self.saga.checkout(scope, checked)
        except checkout.CheckoutInterrupted as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
            raise AssertionError("unreachable") from exc
        return receipt_to_proto(receipt)

    async def GetReceipts(
        self, request: payments_pb2.GetReceiptsRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.GetReceiptsResponse:
        # Organization-wide (the gateway checks rights), in the order asked.
        scope = current_scope()
        ids = cards.check_ids(list(request.ids))
        async with self.ctx.db.read() as session:
            found = await till_repository.get_receipts(session, scope.organization_id, ids)
        return receipts_to_proto(found)

    async def ListReceipts(
        self, request: payments_pb2.ListReceiptsRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.GetReceiptsResponse:
        scope = current_scope()
        day = cards.check_date(request.date, "date")
        async with self.ctx.db.read() as session:
            # R28 + R06: the session's till history; another's needs SWITCH_REPORTS.
            est = await _readable_target(
                session, scope, request.establishment_id, Right.SWITCH_REPORTS
            )
            tz = cards.zone(
                await cards_repository.establishment_timezone(session, scope.organization_id, est)
            )
            start, end = cards.day_bounds(day, tz)
            found = await till_repository.list_receipts(
                session, scope.organization_id, est, start, end
            )
        return receipts_to_proto(found)

    # -- gift cards (R14) -----------------------------------------------------------------

    async def IssueGiftCard(
        self, request: payments_pb2.IssueGiftCardRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.GiftCard:
        scope = current_scope()
        checked = cards.check_gift_card(
            request.amount,
            gift_card_kind_name(request.kind),
            request.client_id,
            request.code,
            request.idempotency_key,
        )
        async with self.ctx.db.write() as session:
            card, created = await cards_repository.issue_gift_card(
                session, scope.organization_id, scope.establishment_id, scope.user_id, checked
            )
            message = gift_card_to_proto(card)
            if created:
                await record_event(
                    session,
                    outbox,
                    GIFT_CARD_ISSUED,
                    events_pb2.GiftCardIssued(gift_card=message),
                    scope,
                    establishment_id=card.establishment_id,
                )
        if created:
            self.ctx.wake_relay()
        return message

    async def GetGiftCardByCode(
        self, request: payments_pb2.GetGiftCardByCodeRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.GiftCard:
        scope = current_scope()
        code = cards.normalize_code(request.code)
        if not code or len(code) > 64:
            # Not a code: as unknown as an unknown one.
            raise not_found("gift card", "code")
        async with self.ctx.db.read() as session:
            card = await cards_repository.gift_card_by_code(session, scope.organization_id, code)
        return gift_card_to_proto(card)

    async def GetGiftCards(
        self, request: payments_pb2.GetGiftCardsRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.GetGiftCardsResponse:
        scope = current_scope()
        ids = cards.check_ids(list(request.ids))
        async with self.ctx.db.read() as session:
            found = await cards_repository.gift_cards_by_ids(session, scope.organization_id, ids)
        return gift_cards_to_proto(found)

    async def ListClientGiftCards(
        self, request: payments_pb2.ListClientGiftCardsRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.GetGiftCardsResponse:
        # R14: the organization's, whatever establishment sold them.
        scope = current_scope()
        client_ids = _client_ids(request.client_id, request.client_ids)
        async with self.ctx.db.read() as session:
            found = await cards_repository.client_gift_cards(
                session, scope.organization_id, client_ids
            )
        return gift_cards_to_proto(found)

    # -- subscriptions (R24) --------------------------------------------------------------

    async def SellSubscription(
        self, request: payments_pb2.SellSubscriptionRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.PrepaidSubscription:
        scope = current_scope()
        org, est = scope.organization_id, scope.establishment_id
        async with self.ctx.db.read() as session:
            now = await _local_now(session, org, est)
        checked = cards.check_subscription(
            request.client_id,
            request.name,
            request.visits,
            request.price,
            request.valid_until,
            now.date(),
        )
        async with self.ctx.db.write() as session:
            subscription = await cards_repository.sell_subscription(
                session, org, est, scope.user_id, checked
            )
            message = subscription_to_proto(subscription)
            await record_event(
                session,
                outbox,
                SUBSCRIPTION_SOLD,
                events_pb2.SubscriptionSold(subscription=message),
                scope,
                establishment_id=est,
            )
        self.ctx.wake_relay()
        return message

    async def ListClientSubscriptions(
        self,
        request: payments_pb2.ListClientSubscriptionsRequest,
        context: grpc.aio.ServicerContext,
    ) -> payments_pb2.ListSubscriptionsResponse:
        # R24: only the session establishment's, whatever the caller's rights.
        scope = current_scope()
        client_ids = _client_ids(request.client_id, request.client_ids)
        async with self.ctx.db.read() as session:
            found = await cards_repository.client_subscriptions(
                session, scope.organization_id, scope.establishment_id, client_ids
            )
        return payments_pb2.ListSubscriptionsResponse(
            subscriptions=[subscription_to_proto(s) for s in found]
        )

    # -- settlements (B08) ----------------------------------------------------------------

    async def GetSettlementReport(
        self, request: payments_pb2.SettlementReportRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.SettlementReport:
        scope = current_scope()
        # Owners, or SWITCH_REPORTS (it shows every establishment's figures, R06).
        if not scope.has_right(Right.SWITCH_REPORTS):
            raise DomainError(
                ErrorCode.FORBIDDEN, "the settlement report needs SWITCH_REPORTS", None
            )
        first, last = cards.check_period(getattr(request, "from"), request.to)
        # The settlements of two establishments may span timezones: the period is in UTC
        # days, [from 00:00 UTC, to + 1 day 00:00 UTC).
        start = datetime.combine(first, time(0), tzinfo=UTC)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
        async with self.ctx.db.read() as session:
            sums = await cards_repository.settlement_report(
                session, scope.organization_id, start, end
            )
        return payments_pb2.SettlementReport(
            to=last.isoformat(),
            settlements=[
                payments_pb2.Settlement(
                    from_establishment_id=s.from_establishment_id,
                    to_establishment_id=s.to_establishment_id,
                    amount=format_amount(s.amount),
                    redemptions=s.redemptions,
                )
                for s in sums
            ],
            **{"from": first.isoformat()},
        )
