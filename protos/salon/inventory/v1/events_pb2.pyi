from salon.inventory.v1 import inventory_pb2 as _inventory_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StockAdjusted(_message.Message):
    __slots__ = ("movement", "level")
    MOVEMENT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    movement: _inventory_pb2.StockMovement
    level: _inventory_pb2.StockLevel
    def __init__(self, movement: _Optional[_Union[_inventory_pb2.StockMovement, _Mapping]] = ..., level: _Optional[_Union[_inventory_pb2.StockLevel, _Mapping]] = ...) -> None: ...

class StockTransferred(_message.Message):
    __slots__ = ("transfer_id", "out")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    OUT_FIELD_NUMBER: _ClassVar[int]
    IN_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    out: _inventory_pb2.StockMovement
    def __init__(self, transfer_id: _Optional[str] = ..., out: _Optional[_Union[_inventory_pb2.StockMovement, _Mapping]] = ..., **kwargs) -> None: ...

class StockReserved(_message.Message):
    __slots__ = ("reservation_id", "movements", "levels")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    MOVEMENTS_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    movements: _containers.RepeatedCompositeFieldContainer[_inventory_pb2.StockMovement]
    levels: _containers.RepeatedCompositeFieldContainer[_inventory_pb2.StockLevel]
    def __init__(self, reservation_id: _Optional[str] = ..., movements: _Optional[_Iterable[_Union[_inventory_pb2.StockMovement, _Mapping]]] = ..., levels: _Optional[_Iterable[_Union[_inventory_pb2.StockLevel, _Mapping]]] = ...) -> None: ...

class StockReleased(_message.Message):
    __slots__ = ("reservation_id", "levels")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    levels: _containers.RepeatedCompositeFieldContainer[_inventory_pb2.StockLevel]
    def __init__(self, reservation_id: _Optional[str] = ..., levels: _Optional[_Iterable[_Union[_inventory_pb2.StockLevel, _Mapping]]] = ...) -> None: ...
