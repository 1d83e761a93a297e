from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Service(_message.Message):
    __slots__ = ("id", "name", "category", "establishment_id", "price", "duration_minutes", "description", "bookable_online")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BOOKABLE_ONLINE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    category: str
    establishment_id: str
    price: str
    duration_minutes: int
    description: str
    bookable_online: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., category: _Optional[str] = ..., establishment_id: _Optional[str] = ..., price: _Optional[str] = ..., duration_minutes: _Optional[int] = ..., description: _Optional[str] = ..., bookable_online: _Optional[bool] = ...) -> None: ...

class Product(_message.Message):
    __slots__ = ("id", "name", "brand", "barcode", "establishment_id", "price")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    BARCODE_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    brand: str
    barcode: str
    establishment_id: str
    price: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., brand: _Optional[str] = ..., barcode: _Optional[str] = ..., establishment_id: _Optional[str] = ..., price: _Optional[str] = ...) -> None: ...

class GetServicesRequest(_message.Message):
    __slots__ = ("ids", "establishment_id")
    IDS_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    establishment_id: str
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., establishment_id: _Optional[str] = ...) -> None: ...

class GetServicesResponse(_message.Message):
    __slots__ = ("services",)
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    services: _containers.RepeatedCompositeFieldContainer[Service]
    def __init__(self, services: _Optional[_Iterable[_Union[Service, _Mapping]]] = ...) -> None: ...

class GetProductsRequest(_message.Message):
    __slots__ = ("ids", "establishment_id")
    IDS_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    establishment_id: str
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., establishment_id: _Optional[str] = ...) -> None: ...

class GetProductsResponse(_message.Message):
    __slots__ = ("products",)
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    products: _containers.RepeatedCompositeFieldContainer[Product]
    def __init__(self, products: _Optional[_Iterable[_Union[Product, _Mapping]]] = ...) -> None: ...
