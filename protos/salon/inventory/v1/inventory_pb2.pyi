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

class StockReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STOCK_REASON_UNSPECIFIED: _ClassVar[StockReason]
    STOCK_REASON_DELIVERY: _ClassVar[StockReason]
    STOCK_REASON_CORRECTION: _ClassVar[StockReason]
    STOCK_REASON_SALE: _ClassVar[StockReason]
    STOCK_REASON_TRANSFER_IN: _ClassVar[StockReason]
    STOCK_REASON_TRANSFER_OUT: _ClassVar[StockReason]

class ReservationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESERVATION_STATUS_UNSPECIFIED: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_HELD: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_RELEASED: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_COMMITTED: _ClassVar[ReservationStatus]
STOCK_REASON_UNSPECIFIED: StockReason
STOCK_REASON_DELIVERY: StockReason
STOCK_REASON_CORRECTION: StockReason
STOCK_REASON_SALE: StockReason
STOCK_REASON_TRANSFER_IN: StockReason
STOCK_REASON_TRANSFER_OUT: StockReason
RESERVATION_STATUS_UNSPECIFIED: ReservationStatus
RESERVATION_STATUS_HELD: ReservationStatus
RESERVATION_STATUS_RELEASED: ReservationStatus
RESERVATION_STATUS_COMMITTED: ReservationStatus

class StockLevel(_message.Message):
    __slots__ = ("product_id", "establishment_id", "quantity")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    establishment_id: str
    quantity: int
    def __init__(self, product_id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class StockMovement(_message.Message):
    __slots__ = ("id", "product_id", "establishment_id", "delta", "reason", "user_id", "at", "transfer_id", "reservation_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    product_id: str
    establishment_id: str
    delta: int
    reason: StockReason
    user_id: str
    at: _timestamp_pb2.Timestamp
    transfer_id: str
    reservation_id: str
    def __init__(self, id: _Optional[str] = ..., product_id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., delta: _Optional[int] = ..., reason: _Optional[_Union[StockReason, str]] = ..., user_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., transfer_id: _Optional[str] = ..., reservation_id: _Optional[str] = ...) -> None: ...

class GetStockRequest(_message.Message):
    __slots__ = ("product_ids", "establishment_id")
    PRODUCT_IDS_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    product_ids: _containers.RepeatedScalarFieldContainer[str]
    establishment_id: str
    def __init__(self, product_ids: _Optional[_Iterable[str]] = ..., establishment_id: _Optional[str] = ...) -> None: ...

class GetStockResponse(_message.Message):
    __slots__ = ("levels",)
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    levels: _containers.RepeatedCompositeFieldContainer[StockLevel]
    def __init__(self, levels: _Optional[_Iterable[_Union[StockLevel, _Mapping]]] = ...) -> None: ...

class AdjustStockRequest(_message.Message):
    __slots__ = ("product_id", "delta", "reason", "establishment_id", "idempotency_key")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    delta: int
    reason: StockReason
    establishment_id: str
    idempotency_key: str
    def __init__(self, product_id: _Optional[str] = ..., delta: _Optional[int] = ..., reason: _Optional[_Union[StockReason, str]] = ..., establishment_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class StockChange(_message.Message):
    __slots__ = ("level", "movement")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MOVEMENT_FIELD_NUMBER: _ClassVar[int]
    level: StockLevel
    movement: StockMovement
    def __init__(self, level: _Optional[_Union[StockLevel, _Mapping]] = ..., movement: _Optional[_Union[StockMovement, _Mapping]] = ...) -> None: ...

class TransferStockRequest(_message.Message):
    __slots__ = ("product_id", "to_establishment_id", "quantity", "idempotency_key")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    to_establishment_id: str
    quantity: int
    idempotency_key: str
    def __init__(self, product_id: _Optional[str] = ..., to_establishment_id: _Optional[str] = ..., quantity: _Optional[int] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class TransferStockResponse(_message.Message):
    __slots__ = ("to", "transfer_id")
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    to: StockLevel
    transfer_id: str
    def __init__(self, to: _Optional[_Union[StockLevel, _Mapping]] = ..., transfer_id: _Optional[str] = ..., **kwargs) -> None: ...

class ListMovementsRequest(_message.Message):
    __slots__ = ("product_id", "establishment_id", "limit")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    establishment_id: str
    limit: int
    def __init__(self, product_id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListMovementsResponse(_message.Message):
    __slots__ = ("movements",)
    MOVEMENTS_FIELD_NUMBER: _ClassVar[int]
    movements: _containers.RepeatedCompositeFieldContainer[StockMovement]
    def __init__(self, movements: _Optional[_Iterable[_Union[StockMovement, _Mapping]]] = ...) -> None: ...

class ReserveLine(_message.Message):
    __slots__ = ("product_id", "quantity")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    quantity: int
    def __init__(self, product_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class ReserveStockRequest(_message.Message):
    __slots__ = ("reservation_id", "lines")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    lines: _containers.RepeatedCompositeFieldContainer[ReserveLine]
    def __init__(self, reservation_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReserveLine, _Mapping]]] = ...) -> None: ...

class ReserveStockResponse(_message.Message):
    __slots__ = ("reservation_id", "status", "levels")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    status: ReservationStatus
    levels: _containers.RepeatedCompositeFieldContainer[StockLevel]
    def __init__(self, reservation_id: _Optional[str] = ..., status: _Optional[_Union[ReservationStatus, str]] = ..., levels: _Optional[_Iterable[_Union[StockLevel, _Mapping]]] = ...) -> None: ...

class ReleaseStockRequest(_message.Message):
    __slots__ = ("reservation_id",)
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    def __init__(self, reservation_id: _Optional[str] = ...) -> None: ...

class ReleaseStockResponse(_message.Message):
    __slots__ = ("reservation_id", "status", "released")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    status: ReservationStatus
    released: bool
    def __init__(self, reservation_id: _Optional[str] = ..., status: _Optional[_Union[ReservationStatus, str]] = ..., released: _Optional[bool] = ...) -> None: ...
