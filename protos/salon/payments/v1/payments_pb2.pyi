import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
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
DEPOSIT_STATUS_UNSPECIFIED: DepositStatus
DEPOSIT_STATUS_PAID: DepositStatus
DEPOSIT_STATUS_APPLIED: DepositStatus
DEPOSIT_STATUS_REFUNDED: DepositStatus

class Deposit(_message.Message):
    __slots__ = ("id", "appointment_id", "client_id", "establishment_id", "amount", "status", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    APPOINTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    appointment_id: str
    client_id: str
    establishment_id: str
    amount: str
    status: DepositStatus
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., appointment_id: _Optional[str] = ..., client_id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., amount: _Optional[str] = ..., status: _Optional[_Union[DepositStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecordDepositRequest(_message.Message):
    __slots__ = ("appointment_id", "client_id", "amount")
    APPOINTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    appointment_id: str
    client_id: str
    amount: str
    def __init__(self, appointment_id: _Optional[str] = ..., client_id: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("client_id",)
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    def __init__(self, client_id: _Optional[str] = ...) -> None: ...

class Receipt(_message.Message):
    __slots__ = ("id", "number", "establishment_id", "client_id", "total", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    number: str
    establishment_id: str
    client_id: str
    total: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., number: _Optional[str] = ..., establishment_id: _Optional[str] = ..., client_id: _Optional[str] = ..., total: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

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
