import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from salon.common.v1 import privacy_pb2 as _privacy_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DepositStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEPOSIT_STATUS_UNSPECIFIED: _ClassVar[DepositStatus]
    DEPOSIT_STATUS_PAID: _ClassVar[DepositStatus]
    DEPOSIT_STATUS_APPLIED: _ClassVar[DepositStatus]
    DEPOSIT_STATUS_REFUNDED: _ClassVar[DepositStatus]
    DEPOSIT_STATUS_PENDING: _ClassVar[DepositStatus]
    DEPOSIT_STATUS_FAILED: _ClassVar[DepositStatus]

class PaymentMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_METHOD_UNSPECIFIED: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_CASH: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_CARD: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_GIFT_CARD: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_SUBSCRIPTION: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_DEPOSIT: _ClassVar[PaymentMethod]
    PAYMENT_METHOD_ONLINE: _ClassVar[PaymentMethod]

class LineKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LINE_KIND_UNSPECIFIED: _ClassVar[LineKind]
    LINE_KIND_SERVICE: _ClassVar[LineKind]
    LINE_KIND_PRODUCT: _ClassVar[LineKind]

class GiftCardKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GIFT_CARD_KIND_UNSPECIFIED: _ClassVar[GiftCardKind]
    GIFT_CARD_KIND_GENERAL: _ClassVar[GiftCardKind]
    GIFT_CARD_KIND_DIGITAL: _ClassVar[GiftCardKind]
    GIFT_CARD_KIND_NUMBERED: _ClassVar[GiftCardKind]
DEPOSIT_STATUS_UNSPECIFIED: DepositStatus
DEPOSIT_STATUS_PAID: DepositStatus
DEPOSIT_STATUS_APPLIED: DepositStatus
DEPOSIT_STATUS_REFUNDED: DepositStatus
DEPOSIT_STATUS_PENDING: DepositStatus
DEPOSIT_STATUS_FAILED: DepositStatus
PAYMENT_METHOD_UNSPECIFIED: PaymentMethod
PAYMENT_METHOD_CASH: PaymentMethod
PAYMENT_METHOD_CARD: PaymentMethod
PAYMENT_METHOD_GIFT_CARD: PaymentMethod
PAYMENT_METHOD_SUBSCRIPTION: PaymentMethod
PAYMENT_METHOD_DEPOSIT: PaymentMethod
PAYMENT_METHOD_ONLINE: PaymentMethod
LINE_KIND_UNSPECIFIED: LineKind
LINE_KIND_SERVICE: LineKind
LINE_KIND_PRODUCT: LineKind
GIFT_CARD_KIND_UNSPECIFIED: GiftCardKind
GIFT_CARD_KIND_GENERAL: GiftCardKind
GIFT_CARD_KIND_DIGITAL: GiftCardKind
GIFT_CARD_KIND_NUMBERED: GiftCardKind

class Deposit(_message.Message):
    __slots__ = ("id", "appointment_id", "client_id", "establishment_id", "amount", "status", "created_at", "receipt_id", "checkout_url")
    ID_FIELD_NUMBER: _ClassVar[int]
    APPOINTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKOUT_URL_FIELD_NUMBER: _ClassVar[int]
    id: str
    appointment_id: str
    client_id: str
    establishment_id: str
    amount: str
    status: DepositStatus
    created_at: _timestamp_pb2.Timestamp
    receipt_id: str
    checkout_url: str
    def __init__(self, id: _Optional[str] = ..., appointment_id: _Optional[str] = ..., client_id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., amount: _Optional[str] = ..., status: _Optional[_Union[DepositStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., receipt_id: _Optional[str] = ..., checkout_url: _Optional[str] = ...) -> None: ...

class RecordDepositRequest(_message.Message):
    __slots__ = ("appointment_id", "client_id", "amount", "redirect_url")
    APPOINTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URL_FIELD_NUMBER: _ClassVar[int]
    appointment_id: str
    client_id: str
    amount: str
    redirect_url: str
    def __init__(self, appointment_id: _Optional[str] = ..., client_id: _Optional[str] = ..., amount: _Optional[str] = ..., redirect_url: _Optional[str] = ...) -> None: ...

class GetDepositsByAppointmentsRequest(_message.Message):
    __slots__ = ("appointment_ids",)
    APPOINTMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    appointment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, appointment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetDepositsResponse(_message.Message):
    __slots__ = ("deposits",)
    DEPOSITS_FIELD_NUMBER: _ClassVar[int]
    deposits: _containers.RepeatedCompositeFieldContainer[Deposit]
    def __init__(self, deposits: _Optional[_Iterable[_Union[Deposit, _Mapping]]] = ...) -> None: ...

class ListClientDepositsRequest(_message.Message):
    __slots__ = ("client_id", "client_ids")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    client_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, client_id: _Optional[str] = ..., client_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CheckoutLine(_message.Message):
    __slots__ = ("service_id", "product_id", "quantity")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    product_id: str
    quantity: int
    def __init__(self, service_id: _Optional[str] = ..., product_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class CheckoutPayment(_message.Message):
    __slots__ = ("method", "amount", "gift_card_code", "subscription_id")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    GIFT_CARD_CODE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    method: PaymentMethod
    amount: str
    gift_card_code: str
    subscription_id: str
    def __init__(self, method: _Optional[_Union[PaymentMethod, str]] = ..., amount: _Optional[str] = ..., gift_card_code: _Optional[str] = ..., subscription_id: _Optional[str] = ...) -> None: ...

class CheckoutRequest(_message.Message):
    __slots__ = ("client_id", "appointment_id", "lines", "payments", "apply_deposits", "idempotency_key")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    APPOINTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    APPLY_DEPOSITS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    appointment_id: str
    lines: _containers.RepeatedCompositeFieldContainer[CheckoutLine]
    payments: _containers.RepeatedCompositeFieldContainer[CheckoutPayment]
    apply_deposits: bool
    idempotency_key: str
    def __init__(self, client_id: _Optional[str] = ..., appointment_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[CheckoutLine, _Mapping]]] = ..., payments: _Optional[_Iterable[_Union[CheckoutPayment, _Mapping]]] = ..., apply_deposits: _Optional[bool] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ReceiptLine(_message.Message):
    __slots__ = ("kind", "item_id", "description", "quantity", "unit_price", "total")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    kind: LineKind
    item_id: str
    description: str
    quantity: int
    unit_price: str
    total: str
    def __init__(self, kind: _Optional[_Union[LineKind, str]] = ..., item_id: _Optional[str] = ..., description: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[str] = ..., total: _Optional[str] = ...) -> None: ...

class Payment(_message.Message):
    __slots__ = ("method", "amount", "gift_card_id", "subscription_id", "deposit_id")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    GIFT_CARD_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    DEPOSIT_ID_FIELD_NUMBER: _ClassVar[int]
    method: PaymentMethod
    amount: str
    gift_card_id: str
    subscription_id: str
    deposit_id: str
    def __init__(self, method: _Optional[_Union[PaymentMethod, str]] = ..., amount: _Optional[str] = ..., gift_card_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., deposit_id: _Optional[str] = ...) -> None: ...

class Receipt(_message.Message):
    __slots__ = ("id", "number", "establishment_id", "client_id", "total", "created_at", "appointment_id", "lines", "payments", "deposits_applied", "user_id", "reservation_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    APPOINTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    DEPOSITS_APPLIED_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    number: str
    establishment_id: str
    client_id: str
    total: str
    created_at: _timestamp_pb2.Timestamp
    appointment_id: str
    lines: _containers.RepeatedCompositeFieldContainer[ReceiptLine]
    payments: _containers.RepeatedCompositeFieldContainer[Payment]
    deposits_applied: _containers.RepeatedCompositeFieldContainer[Deposit]
    user_id: str
    reservation_id: str
    def __init__(self, id: _Optional[str] = ..., number: _Optional[str] = ..., establishment_id: _Optional[str] = ..., client_id: _Optional[str] = ..., total: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., appointment_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReceiptLine, _Mapping]]] = ..., payments: _Optional[_Iterable[_Union[Payment, _Mapping]]] = ..., deposits_applied: _Optional[_Iterable[_Union[Deposit, _Mapping]]] = ..., user_id: _Optional[str] = ..., reservation_id: _Optional[str] = ...) -> None: ...

class GetReceiptsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetReceiptsResponse(_message.Message):
    __slots__ = ("receipts",)
    RECEIPTS_FIELD_NUMBER: _ClassVar[int]
    receipts: _containers.RepeatedCompositeFieldContainer[Receipt]
    def __init__(self, receipts: _Optional[_Iterable[_Union[Receipt, _Mapping]]] = ...) -> None: ...

class ListReceiptsRequest(_message.Message):
    __slots__ = ("date", "establishment_id")
    DATE_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    date: str
    establishment_id: str
    def __init__(self, date: _Optional[str] = ..., establishment_id: _Optional[str] = ...) -> None: ...

class GiftCard(_message.Message):
    __slots__ = ("id", "code", "kind", "balance", "initial_amount", "establishment_id", "client_id", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    INITIAL_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    code: str
    kind: GiftCardKind
    balance: str
    initial_amount: str
    establishment_id: str
    client_id: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., code: _Optional[str] = ..., kind: _Optional[_Union[GiftCardKind, str]] = ..., balance: _Optional[str] = ..., initial_amount: _Optional[str] = ..., establishment_id: _Optional[str] = ..., client_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class IssueGiftCardRequest(_message.Message):
    __slots__ = ("amount", "kind", "client_id", "code", "idempotency_key")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    amount: str
    kind: GiftCardKind
    client_id: str
    code: str
    idempotency_key: str
    def __init__(self, amount: _Optional[str] = ..., kind: _Optional[_Union[GiftCardKind, str]] = ..., client_id: _Optional[str] = ..., code: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class GetGiftCardByCodeRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class GetGiftCardsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetGiftCardsResponse(_message.Message):
    __slots__ = ("gift_cards",)
    GIFT_CARDS_FIELD_NUMBER: _ClassVar[int]
    gift_cards: _containers.RepeatedCompositeFieldContainer[GiftCard]
    def __init__(self, gift_cards: _Optional[_Iterable[_Union[GiftCard, _Mapping]]] = ...) -> None: ...

class ListClientGiftCardsRequest(_message.Message):
    __slots__ = ("client_id", "client_ids")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    client_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, client_id: _Optional[str] = ..., client_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class PrepaidSubscription(_message.Message):
    __slots__ = ("id", "name", "establishment_id", "client_id", "visits", "visits_left", "price", "valid_until", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    VISITS_FIELD_NUMBER: _ClassVar[int]
    VISITS_LEFT_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    establishment_id: str
    client_id: str
    visits: int
    visits_left: int
    price: str
    valid_until: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., establishment_id: _Optional[str] = ..., client_id: _Optional[str] = ..., visits: _Optional[int] = ..., visits_left: _Optional[int] = ..., price: _Optional[str] = ..., valid_until: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SellSubscriptionRequest(_message.Message):
    __slots__ = ("client_id", "name", "visits", "price", "valid_until")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VISITS_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    name: str
    visits: int
    price: str
    valid_until: str
    def __init__(self, client_id: _Optional[str] = ..., name: _Optional[str] = ..., visits: _Optional[int] = ..., price: _Optional[str] = ..., valid_until: _Optional[str] = ...) -> None: ...

class ListClientSubscriptionsRequest(_message.Message):
    __slots__ = ("client_id", "client_ids")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    client_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, client_id: _Optional[str] = ..., client_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListSubscriptionsResponse(_message.Message):
    __slots__ = ("subscriptions",)
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    subscriptions: _containers.RepeatedCompositeFieldContainer[PrepaidSubscription]
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[PrepaidSubscription, _Mapping]]] = ...) -> None: ...

class Terminal(_message.Message):
    __slots__ = ("id", "serial", "name", "establishment_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    serial: str
    name: str
    establishment_id: str
    def __init__(self, id: _Optional[str] = ..., serial: _Optional[str] = ..., name: _Optional[str] = ..., establishment_id: _Optional[str] = ...) -> None: ...

class AssignTerminalRequest(_message.Message):
    __slots__ = ("serial", "name")
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    serial: str
    name: str
    def __init__(self, serial: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListTerminalsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTerminalsResponse(_message.Message):
    __slots__ = ("terminals",)
    TERMINALS_FIELD_NUMBER: _ClassVar[int]
    terminals: _containers.RepeatedCompositeFieldContainer[Terminal]
    def __init__(self, terminals: _Optional[_Iterable[_Union[Terminal, _Mapping]]] = ...) -> None: ...

class ProviderConnection(_message.Message):
    __slots__ = ("connected", "provider", "account_id", "establishment_id", "connected_at")
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_FIELD_NUMBER: _ClassVar[int]
    connected: bool
    provider: str
    account_id: str
    establishment_id: str
    connected_at: _timestamp_pb2.Timestamp
    def __init__(self, connected: _Optional[bool] = ..., provider: _Optional[str] = ..., account_id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., connected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConnectProviderRequest(_message.Message):
    __slots__ = ("provider", "account_id", "api_key")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    provider: str
    account_id: str
    api_key: str
    def __init__(self, provider: _Optional[str] = ..., account_id: _Optional[str] = ..., api_key: _Optional[str] = ...) -> None: ...

class GetProviderConnectionRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RefreshProviderPaymentRequest(_message.Message):
    __slots__ = ("provider", "payment_id")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    provider: str
    payment_id: str
    def __init__(self, provider: _Optional[str] = ..., payment_id: _Optional[str] = ...) -> None: ...

class ReportRequest(_message.Message):
    __slots__ = ("to", "establishment_id")
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    to: str
    establishment_id: str
    def __init__(self, to: _Optional[str] = ..., establishment_id: _Optional[str] = ..., **kwargs) -> None: ...

class Report(_message.Message):
    __slots__ = ("establishment_id", "to", "revenue", "appointments", "products_sold", "receipts")
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    REVENUE_FIELD_NUMBER: _ClassVar[int]
    APPOINTMENTS_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_SOLD_FIELD_NUMBER: _ClassVar[int]
    RECEIPTS_FIELD_NUMBER: _ClassVar[int]
    establishment_id: str
    to: str
    revenue: str
    appointments: int
    products_sold: int
    receipts: int
    def __init__(self, establishment_id: _Optional[str] = ..., to: _Optional[str] = ..., revenue: _Optional[str] = ..., appointments: _Optional[int] = ..., products_sold: _Optional[int] = ..., receipts: _Optional[int] = ..., **kwargs) -> None: ...

class OrganizationReportRequest(_message.Message):
    __slots__ = ("to",)
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    to: str
    def __init__(self, to: _Optional[str] = ..., **kwargs) -> None: ...

class OrganizationReport(_message.Message):
    __slots__ = ("to", "establishments", "total_revenue", "total_appointments", "total_products_sold")
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_REVENUE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_APPOINTMENTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PRODUCTS_SOLD_FIELD_NUMBER: _ClassVar[int]
    to: str
    establishments: _containers.RepeatedCompositeFieldContainer[Report]
    total_revenue: str
    total_appointments: int
    total_products_sold: int
    def __init__(self, to: _Optional[str] = ..., establishments: _Optional[_Iterable[_Union[Report, _Mapping]]] = ..., total_revenue: _Optional[str] = ..., total_appointments: _Optional[int] = ..., total_products_sold: _Optional[int] = ..., **kwargs) -> None: ...

class SettlementReportRequest(_message.Message):
    __slots__ = ("to",)
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    to: str
    def __init__(self, to: _Optional[str] = ..., **kwargs) -> None: ...

class Settlement(_message.Message):
    __slots__ = ("from_establishment_id", "to_establishment_id", "amount", "redemptions")
    FROM_ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REDEMPTIONS_FIELD_NUMBER: _ClassVar[int]
    from_establishment_id: str
    to_establishment_id: str
    amount: str
    redemptions: int
    def __init__(self, from_establishment_id: _Optional[str] = ..., to_establishment_id: _Optional[str] = ..., amount: _Optional[str] = ..., redemptions: _Optional[int] = ...) -> None: ...

class SettlementReport(_message.Message):
    __slots__ = ("to", "settlements")
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    SETTLEMENTS_FIELD_NUMBER: _ClassVar[int]
    to: str
    settlements: _containers.RepeatedCompositeFieldContainer[Settlement]
    def __init__(self, to: _Optional[str] = ..., settlements: _Optional[_Iterable[_Union[Settlement, _Mapping]]] = ..., **kwargs) -> None: ...
