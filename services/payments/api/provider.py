"""gRPC API of terminals (R31), the payment provider connection and online deposits through
it (R32, R17), and reports (R27, R06, B03): protobuf in, domain calls, protobuf out.

`ProviderApi` is a mixin of the service's servicer (it expects `self.ctx`); the module
function `start_provider_payment` is what RecordDeposit calls to send a deposit to the
provider. Talking to the provider always happens outside any write transaction: a slow
provider must never hold the database (SQLite has a single writer).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncConnection

from salon.payments.v1 import events_pb2, payments_pb2
from services.common import access
from services.common.errors import DomainError, ErrorCode, not_found
from services.common.events import EventType
from services.common.money import format_amount
from services.common.outbox import record_event
from services.common.rpc import PeerError
from services.common.runtime import ServiceContext
from services.common.scope import Right, Scope, current_scope
from services.payments.api.convert import deposit_to_proto
from services.payments.domain import reports
from services.payments.domain.model import Deposit, DepositStatus
from services.payments.provider import crypto
from services.payments.provider import model as provider_model
from services.payments.provider.mollie import Mollie
from services.payments.settings import PaymentsSettings
from services.payments.store import provider_repository, reports_repository
from services.payments.store.tables import known_establishments, outbox

log = logging.getLogger("salon.payments.provider")

TERMINAL_ASSIGNED = EventType("payments", "terminal", "assigned")
PROVIDER_CONNECTED = EventType("payments", "provider", "connected")
DEPOSIT_PAID = EventType("payments", "deposit", "paid")


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def terminal_to_proto(terminal: provider_model.Terminal) -> payments_pb2.Terminal:
    return payments_pb2.Terminal(
        id=terminal.id,
        serial=terminal.serial,
        name=terminal.name,
        establishment_id=terminal.establishment_id,
    )


def connection_to_proto(
    establishment_id: str, connection: provider_model.Connection | None
) -> payments_pb2.ProviderConnection:
    """Never the key, encrypted or not."""
    if connection is None:
        return payments_pb2.ProviderConnection(connected=False, establishment_id=establishment_id)
    return payments_pb2.ProviderConnection(
        connected=True,
        provider=connection.provider,
        account_id=connection.account_id,
        establishment_id=connection.establishment_id,
        connected_at=_ts(connection.connected_at),
    )


def report_to_proto(figures: reports.Figures, period: reports.Period) -> payments_pb2.Report:
    return payments_pb2.Report(
        establishment_id=figures.establishment_id,
        revenue=format_amount(figures.revenue),
        appointments=figures.appointments,
        products_sold=figures.products_sold,
        receipts=figures.receipts,
        **{"from": period.first.isoformat(), "to": period.last.isoformat()},
    )


def deposit_message(deposit: Deposit, checkout_url: str = "") -> payments_pb2.Deposit:

    message = deposit_to_proto(deposit)
    if deposit.status is DepositStatus.PENDING and checkout_url:
        message.checkout_url = checkout_url
    return message


def _mollie() -> Mollie:
    return Mollie(PaymentsSettings().mollie_api_url)


def _payments_key_missing(error: crypto.PaymentsKeyError) -> DomainError:
    """The service cannot keep API keys (no or a wrong SALON_PAYMENTS_KEY): a set-up problem
    of the service, logged, answered NOT_CONFIGURED (FAILED_PRECONDITION), nothing stored."""
    log.error("payment provider: %s", error)
    return DomainError(ErrorCode.NOT_CONFIGURED, "online payments are not configured here")


async def _report_establishment(conn: AsyncConnection, scope: Scope, requested: str) -> str:
    """access.target_establishment without its writes, so that it may run in a read
    transaction: the session establishment as is; one the gateway vouched for in this
    request without being remembered; any other must be known in the organization
    (NOT_FOUND otherwise, R01). Then FORBIDDEN without SWITCH_REPORTS (R06)."""
    if not requested or requested == scope.establishment_id:
        return scope.establishment_id
    if requested not in scope.verified_establishments:
        return await access.target_establishment(
            conn, known_establishments, scope, requested, Right.SWITCH_REPORTS
        )
    if not scope.has_right(Right.SWITCH_REPORTS):
        raise DomainError(
            ErrorCode.FORBIDDEN,
            f"{Right.SWITCH_REPORTS.value} is needed to act on another establishment",
            "establishmentId",
        )
    return requested


async def start_provider_payment(
    ctx: ServiceContext,
    conn: AsyncConnection | None,
    organization_id: str,
    establishment_id: str,
    deposit_id: str,
    amount: Decimal,
    description: str,
    redirect_url: str,
) -> tuple[str, str] | None:
    """Send a recorded deposit to the payment provider of its establishment (R32: the
    appointment's establishment's connection, R17); (provider payment id, checkout URL), or
    None when the establishment has no connection (nothing is asked or written then).

    How RecordDeposit uses it (the provider is never called inside a write transaction):
    1. Before anything is written, check the request, including a given redirect URL
       (`provider_model.check_redirect_url(request.redirect_url)` when not empty).
    2. In one write transaction: look the connection up (`provider_repository.
       get_connection`) and record the deposit PENDING when there is one (PAID with its
       DepositPaid event when there is none, as today); commit.
    3. After the commit, call this function with `conn=None` (or a READ connection: it is
       only used to read the connection; never pass a write transaction). It creates the
       payment with Mollie (amount in EUR, `description`, redirectUrl = `redirect_url` or
       SALON_PUBLIC_URL, webhookUrl = <SALON_PUBLIC_URL>/webhooks/mollie/<organization>
       when a public URL is set, metadata {deposit_id, organization_id}; the deposit id is
       Mollie's idempotency key, so a retried creation answers the same payment), then
       stores the provider payment in its own short write transaction.
    4. Answer the deposit PENDING with `checkout_url` = the URL returned here.
    When the provider refuses or cannot be reached, this function marks the deposit FAILED
    (from PENDING, its own transaction) and raises: DomainError INVALID (refused),
    PeerError UNAVAILABLE (unreachable: the server answers UNAVAILABLE), or
    crypto.PaymentsKeyError (the service's key is missing or changed). The webhook's
    RefreshProviderPayment later marks the deposit PAID (with its DepositPaid event) or
    FAILED.
    """
    if conn is not None:
        connection = await provider_repository.get_connection(
            conn, organization_id, establishment_id
        )
    else:
        async with ctx.db.read(organization_id=organization_id) as reader:
            connection = await provider_repository.get_connection(
                reader, organization_id, establishment_id
            )
    if connection is None:
        return None
    settings = PaymentsSettings()
    public_url = settings.public_url.rstrip("/")
    try:
        back = provider_model.check_redirect_url(redirect_url or public_url)
        api_key = crypto.decrypt(connection.api_key_encrypted)
        payment = await Mollie(settings.mollie_api_url).create_payment(
            api_key,
            connection.account_id,
            amount=amount,
            description=description,
            redirect_url=back,
            webhook_url=f"{public_url}/webhooks/mollie/{organization_id}" if public_url else "",
            metadata={"deposit_id": deposit_id, "organization_id": organization_id},
            idempotency_key=deposit_id,
        )
    except (DomainError, PeerError, crypto.PaymentsKeyError) as exc:
        log.warning("deposit %s: the provider payment was not created: %s", deposit_id, exc)
        async with ctx.db.write(organization_id=organization_id) as writer:
            await provider_repository.settle_deposit(
                writer, organization_id, deposit_id, DepositStatus.FAILED
            )
        raise
    async with ctx.db.write(organization_id=organization_id) as writer:
        await provider_repository.record_provider_payment(
            writer,
            organization_id,
            establishment_id,
            connection.provider,
            payment.id,
            deposit_id,
            payment.status,
            payment.checkout_url,
        )
    return payment.id, payment.checkout_url


class ProviderApi:
    """Terminals, the provider connection, provider payments and reports. A mixin of the
    servicer: it needs `self.ctx`."""

    ctx: ServiceContext

    async def AssignTerminal(
        self, request: payments_pb2.AssignTerminalRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.Terminal:
        """R31: in the session establishment only. The same serial again there renames it
        (nothing changes, no event, when the name is the same); the same serial may be
        assigned in other establishments too."""
        scope = current_scope()
        serial = provider_model.check_serial(request.serial)
        name = provider_model.check_terminal_name(request.name)
        async with self.ctx.db.write() as conn:
            est = await access.target_establishment(conn, known_establishments, scope, "", None)
            terminal, changed = await provider_repository.assign_terminal(
                conn, scope.organization_id, est, serial, name
            )
            message = terminal_to_proto(terminal)
            if changed:
                await record_event(
                    conn,
                    outbox,
                    TERMINAL_ASSIGNED,
                    events_pb2.TerminalAssigned(terminal=message),
                    scope,
                    establishment_id=est,
                )
        if changed:
            self.ctx.wake_relay()
        return message

    async def ListTerminals(
        self, request: payments_pb2.ListTerminalsRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.ListTerminalsResponse:
        """The session establishment's terminals only (R31)."""
        scope = current_scope()
        async with self.ctx.db.read() as conn:
            terminals = await provider_repository.list_terminals(
                conn, scope.organization_id, scope.establishment_id
            )
        return payments_pb2.ListTerminalsResponse(
            terminals=[terminal_to_proto(t) for t in terminals]
        )

    async def ConnectProvider(
        self, request: payments_pb2.ConnectProviderRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.ProviderConnection:
        """R32: the session establishment's account. The key is checked with the provider
        first (outside any transaction), then stored encrypted; a refused key or an
        unreachable provider stores nothing. The answer and the event never carry it."""
        scope = current_scope()
        provider = provider_model.check_provider(request.provider)
        account_id = provider_model.check_account_id(request.account_id)
        api_key = provider_model.check_api_key(request.api_key, account_id)
        try:
            crypto.check_configured()
            await _mollie().check_key(api_key, account_id)
            encrypted = crypto.encrypt(api_key)
        except crypto.PaymentsKeyError as exc:
            raise _payments_key_missing(exc) from exc
        async with self.ctx.db.write() as conn:
            est = await access.target_establishment(conn, known_establishments, scope, "", None)
            connection = await provider_repository.save_connection(
                conn, scope.organization_id, est, provider, account_id, encrypted
            )
            message = connection_to_proto(est, connection)
            await record_event(
                conn,
                outbox,
                PROVIDER_CONNECTED,
                events_pb2.ProviderConnected(connection=message),
                scope,
                establishment_id=est,
            )
        self.ctx.wake_relay()
        return message

    async def GetProviderConnection(
        self,
        request: payments_pb2.GetProviderConnectionRequest,
        context: grpc.aio.ServicerContext,
    ) -> payments_pb2.ProviderConnection:
        """The session establishment's connection (R32); connected=false without one."""
        scope = current_scope()
        async with self.ctx.db.read() as conn:
            connection = await provider_repository.get_connection(
                conn, scope.organization_id, scope.establishment_id
            )
        return connection_to_proto(scope.establishment_id, connection)

    async def RefreshProviderPayment(
        self,
        request: payments_pb2.RefreshProviderPaymentRequest,
        context: grpc.aio.ServicerContext,
    ) -> payments_pb2.Deposit:
        """The provider's webhook said a payment changed (public: no user in the scope; the
        organization is the scope's). Fetch the payment with the key of the establishment
        that created it, then: paid → the deposit PAID once, with its DepositPaid event;
        failed, expired, canceled → FAILED; still open → unchanged. Idempotent: a repeat
        changes nothing and publishes nothing."""
        scope = current_scope()
        provider = provider_model.check_provider(request.provider)
        payment_id = provider_model.check_payment_id(request.payment_id)
        async with self.ctx.db.read() as conn:
            row = await provider_repository.get_provider_payment(
                conn, scope.organization_id, provider, payment_id
            )
            if row is None:
                raise not_found("provider payment", "paymentId")
            connection = await provider_repository.get_connection(
                conn, scope.organization_id, row.establishment_id
            )
        if connection is None:
            raise not_found("provider connection", "paymentId")
        try:
            api_key = crypto.decrypt(connection.api_key_encrypted)
        except crypto.PaymentsKeyError as exc:
            raise _payments_key_missing(exc) from exc
        remote = await _mollie().get_payment(api_key, payment_id)
        outcome = provider_model.outcome(remote.status)
        paid = False
        async with self.ctx.db.write() as conn:
            await provider_repository.update_provider_payment(
                conn, scope.organization_id, payment_id, remote.status, remote.checkout_url
            )
            if outcome is provider_model.PaymentOutcome.PAID:
                paid = await provider_repository.settle_deposit(
                    conn, scope.organization_id, row.deposit_id, DepositStatus.PAID
                )
            elif outcome is provider_model.PaymentOutcome.FAILED:
                await provider_repository.settle_deposit(
                    conn, scope.organization_id, row.deposit_id, DepositStatus.FAILED
                )
            deposit = await provider_repository.get_deposit(
                conn, scope.organization_id, row.deposit_id
            )
            message = deposit_message(deposit, remote.checkout_url)
            if paid:
                await record_event(
                    conn,
                    outbox,
                    DEPOSIT_PAID,
                    events_pb2.DepositPaid(deposit=message),
                    scope,
                    establishment_id=deposit.establishment_id,
                )
        if paid:
            self.ctx.wake_relay()
        return message

    async def GetReport(
        self, request: payments_pb2.ReportRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.Report:
        """R27: one establishment's figures; another than the session's needs
        SWITCH_REPORTS (R06), an unknown or foreign one is NOT_FOUND (R01)."""
        scope = current_scope()
        period = reports.check_period(getattr(request, "from"), request.to)
        async with self.ctx.db.read() as conn:
            est = await _report_establishment(conn, scope, request.establishment_id)
            zones = await reports_repository.establishments(conn, scope.organization_id)
            selection = reports_repository.Selection(
                {est: zones.get(est, reports.DEFAULT_TIMEZONE)}
            )
            found = await reports_repository.figures(conn, scope.organization_id, selection, period)
        return report_to_proto(found.get(est, reports.Figures(est)), period)

    async def GetOrganizationReport(
        self, request: payments_pb2.OrganizationReportRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.OrganizationReport:
        """B03 (owners): every establishment of the organization side by side (the known
        ones, and any other with data), and totals that are their sums."""
        scope = current_scope()
        reports.check_may_see_organization(scope)
        period = reports.check_period(getattr(request, "from"), request.to)
        async with self.ctx.db.read() as conn:
            zones = await reports_repository.establishments(conn, scope.organization_id)
            if scope.establishment_id not in zones:
                zones[scope.establishment_id] = reports.DEFAULT_TIMEZONE
            selection = reports_repository.Selection(zones, others=True)
            found = await reports_repository.figures(conn, scope.organization_id, selection, period)
        total = reports.organization(reports_repository.side_by_side(list(zones), found))
        return payments_pb2.OrganizationReport(
            establishments=[report_to_proto(f, period) for f in total.establishments],
            total_revenue=format_amount(total.revenue),
            total_appointments=total.appointments,
            total_products_sold=total.products_sold,
            **{"from": period.first.isoformat(), "to": period.last.isoformat()},
        )
