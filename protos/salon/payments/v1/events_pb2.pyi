from salon.payments.v1 import payments_pb2 as _payments_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DepositPaid(_message.Message):
    __slots__ = ("deposit",)
    DEPOSIT_FIELD_NUMBER: _ClassVar[int]
    deposit: _payments_pb2.Deposit
    def __init__(self, deposit: _Optional[_Union[_payments_pb2.Deposit, _Mapping]] = ...) -> None: ...

class DepositApplied(_message.Message):
    __slots__ = ("deposit",)
    DEPOSIT_FIELD_NUMBER: _ClassVar[int]
    deposit: _payments_pb2.Deposit
    def __init__(self, deposit: _Optional[_Union[_payments_pb2.Deposit, _Mapping]] = ...) -> None: ...

class ReceiptCreated(_message.Message):
    __slots__ = ("receipt",)
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    receipt: _payments_pb2.Receipt
    def __init__(self, receipt: _Optional[_Union[_payments_pb2.Receipt, _Mapping]] = ...) -> None: ...

class GiftCardIssued(_message.Message):
    __slots__ = ("gift_card",)
    GIFT_CARD_FIELD_NUMBER: _ClassVar[int]
    gift_card: _payments_pb2.GiftCard
    def __init__(self, gift_card: _Optional[_Union[_payments_pb2.GiftCard, _Mapping]] = ...) -> None: ...

class GiftCardRedeemed(_message.Message):
    __slots__ = ("gift_card", "amount", "receipt_id", "establishment_id")
    GIFT_CARD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    gift_card: _payments_pb2.GiftCard
    amount: str
    receipt_id: str
    establishment_id: str
    def __init__(self, gift_card: _Optional[_Union[_payments_pb2.GiftCard, _Mapping]] = ..., amount: _Optional[str] = ..., receipt_id: _Optional[str] = ..., establishment_id: _Optional[str] = ...) -> None: ...

class SubscriptionSold(_message.Message):
    __slots__ = ("subscription",)
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: _payments_pb2.PrepaidSubscription
    def __init__(self, subscription: _Optional[_Union[_payments_pb2.PrepaidSubscription, _Mapping]] = ...) -> None: ...

class SubscriptionUsed(_message.Message):
    __slots__ = ("subscription", "receipt_id")
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    subscription: _payments_pb2.PrepaidSubscription
    receipt_id: str
    def __init__(self, subscription: _Optional[_Union[_payments_pb2.PrepaidSubscription, _Mapping]] = ..., receipt_id: _Optional[str] = ...) -> None: ...

class TerminalAssigned(_message.Message):
    __slots__ = ("terminal",)
    TERMINAL_FIELD_NUMBER: _ClassVar[int]
    terminal: _payments_pb2.Terminal
    def __init__(self, terminal: _Optional[_Union[_payments_pb2.Terminal, _Mapping]] = ...) -> None: ...

class ProviderConnected(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _payments_pb2.ProviderConnection
    def __init__(self, connection: _Optional[_Union[_payments_pb2.ProviderConnection, _Mapping]] = ...) -> None: ...
