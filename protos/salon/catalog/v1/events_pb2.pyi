from salon.catalog.v1 import catalog_pb2 as _catalog_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ServiceCreated(_message.Message):
    __slots__ = ("service", "establishment_ids")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    service: _catalog_pb2.Service
    establishment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, service: _Optional[_Union[_catalog_pb2.Service, _Mapping]] = ..., establishment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ServiceUpdated(_message.Message):
    __slots__ = ("service", "changed_fields")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    service: _catalog_pb2.Service
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, service: _Optional[_Union[_catalog_pb2.Service, _Mapping]] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class ServiceDeleted(_message.Message):
    __slots__ = ("service_id", "establishment_ids")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    establishment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, service_id: _Optional[str] = ..., establishment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ServiceRestored(_message.Message):
    __slots__ = ("service_id", "establishment_ids")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    establishment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, service_id: _Optional[str] = ..., establishment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ProductCreated(_message.Message):
    __slots__ = ("product",)
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    product: _catalog_pb2.Product
    def __init__(self, product: _Optional[_Union[_catalog_pb2.Product, _Mapping]] = ...) -> None: ...

class ProductPriceChanged(_message.Message):
    __slots__ = ("product",)
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    product: _catalog_pb2.Product
    def __init__(self, product: _Optional[_Union[_catalog_pb2.Product, _Mapping]] = ...) -> None: ...

class MenuCreated(_message.Message):
    __slots__ = ("menu",)
    MENU_FIELD_NUMBER: _ClassVar[int]
    menu: _catalog_pb2.Menu
    def __init__(self, menu: _Optional[_Union[_catalog_pb2.Menu, _Mapping]] = ...) -> None: ...

class MenuDeleted(_message.Message):
    __slots__ = ("menu_id",)
    MENU_ID_FIELD_NUMBER: _ClassVar[int]
    menu_id: str
    def __init__(self, menu_id: _Optional[str] = ...) -> None: ...

class WebshopUpdated(_message.Message):
    __slots__ = ("webshop", "changed_fields")
    WEBSHOP_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    webshop: _catalog_pb2.Webshop
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, webshop: _Optional[_Union[_catalog_pb2.Webshop, _Mapping]] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class WebsiteProfileUpdated(_message.Message):
    __slots__ = ("profile", "changed_fields")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    profile: _catalog_pb2.WebsiteProfile
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, profile: _Optional[_Union[_catalog_pb2.WebsiteProfile, _Mapping]] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...
