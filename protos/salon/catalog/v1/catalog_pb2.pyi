import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from salon.common.v1 import privacy_pb2 as _privacy_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Service(_message.Message):
    __slots__ = ("id", "name", "category", "establishment_id", "price", "duration_minutes", "description", "bookable_online", "customized_fields", "deleted_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BOOKABLE_ONLINE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMIZED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    DELETED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    category: str
    establishment_id: str
    price: str
    duration_minutes: int
    description: str
    bookable_online: bool
    customized_fields: _containers.RepeatedScalarFieldContainer[str]
    deleted_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., category: _Optional[str] = ..., establishment_id: _Optional[str] = ..., price: _Optional[str] = ..., duration_minutes: _Optional[int] = ..., description: _Optional[str] = ..., bookable_online: _Optional[bool] = ..., customized_fields: _Optional[_Iterable[str]] = ..., deleted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ServiceChange(_message.Message):
    __slots__ = ("service", "establishment_ids")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    service: Service
    establishment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, service: _Optional[_Union[Service, _Mapping]] = ..., establishment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateServiceRequest(_message.Message):
    __slots__ = ("name", "category", "price", "duration_minutes", "description", "bookable_online")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BOOKABLE_ONLINE_FIELD_NUMBER: _ClassVar[int]
    name: str
    category: str
    price: str
    duration_minutes: int
    description: str
    bookable_online: bool
    def __init__(self, name: _Optional[str] = ..., category: _Optional[str] = ..., price: _Optional[str] = ..., duration_minutes: _Optional[int] = ..., description: _Optional[str] = ..., bookable_online: _Optional[bool] = ...) -> None: ...

class UpdateServiceRequest(_message.Message):
    __slots__ = ("id", "price", "duration_minutes", "description", "bookable_online")
    ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BOOKABLE_ONLINE_FIELD_NUMBER: _ClassVar[int]
    id: str
    price: str
    duration_minutes: int
    description: str
    bookable_online: bool
    def __init__(self, id: _Optional[str] = ..., price: _Optional[str] = ..., duration_minutes: _Optional[int] = ..., description: _Optional[str] = ..., bookable_online: _Optional[bool] = ...) -> None: ...

class ResetServiceSettingsRequest(_message.Message):
    __slots__ = ("id", "fields")
    ID_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteServiceRequest(_message.Message):
    __slots__ = ("id", "confirm")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    id: str
    confirm: bool
    def __init__(self, id: _Optional[str] = ..., confirm: _Optional[bool] = ...) -> None: ...

class DeleteServiceResponse(_message.Message):
    __slots__ = ("deleted_service_id", "establishment_ids", "future_appointments")
    DELETED_SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    FUTURE_APPOINTMENTS_FIELD_NUMBER: _ClassVar[int]
    deleted_service_id: str
    establishment_ids: _containers.RepeatedScalarFieldContainer[str]
    future_appointments: int
    def __init__(self, deleted_service_id: _Optional[str] = ..., establishment_ids: _Optional[_Iterable[str]] = ..., future_appointments: _Optional[int] = ...) -> None: ...

class RestoreServiceRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetServicesRequest(_message.Message):
    __slots__ = ("ids", "establishment_id", "include_deleted")
    IDS_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DELETED_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    establishment_id: str
    include_deleted: bool
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., establishment_id: _Optional[str] = ..., include_deleted: _Optional[bool] = ...) -> None: ...

class GetServicesResponse(_message.Message):
    __slots__ = ("services",)
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    services: _containers.RepeatedCompositeFieldContainer[Service]
    def __init__(self, services: _Optional[_Iterable[_Union[Service, _Mapping]]] = ...) -> None: ...

class ListServicesRequest(_message.Message):
    __slots__ = ("establishment_id", "bookable_online_only")
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    BOOKABLE_ONLINE_ONLY_FIELD_NUMBER: _ClassVar[int]
    establishment_id: str
    bookable_online_only: bool
    def __init__(self, establishment_id: _Optional[str] = ..., bookable_online_only: _Optional[bool] = ...) -> None: ...

class ListServicesResponse(_message.Message):
    __slots__ = ("services",)
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    services: _containers.RepeatedCompositeFieldContainer[Service]
    def __init__(self, services: _Optional[_Iterable[_Union[Service, _Mapping]]] = ...) -> None: ...

class Product(_message.Message):
    __slots__ = ("id", "name", "brand", "barcode", "establishment_id", "price", "price_customized")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    BARCODE_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    PRICE_CUSTOMIZED_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    brand: str
    barcode: str
    establishment_id: str
    price: str
    price_customized: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., brand: _Optional[str] = ..., barcode: _Optional[str] = ..., establishment_id: _Optional[str] = ..., price: _Optional[str] = ..., price_customized: _Optional[bool] = ...) -> None: ...

class CreateProductRequest(_message.Message):
    __slots__ = ("name", "brand", "barcode", "price")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    BARCODE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    name: str
    brand: str
    barcode: str
    price: str
    def __init__(self, name: _Optional[str] = ..., brand: _Optional[str] = ..., barcode: _Optional[str] = ..., price: _Optional[str] = ...) -> None: ...

class SetProductPriceRequest(_message.Message):
    __slots__ = ("product_id", "price", "establishment_id")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    price: str
    establishment_id: str
    def __init__(self, product_id: _Optional[str] = ..., price: _Optional[str] = ..., establishment_id: _Optional[str] = ...) -> None: ...

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

class ListProductsRequest(_message.Message):
    __slots__ = ("establishment_id",)
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    establishment_id: str
    def __init__(self, establishment_id: _Optional[str] = ...) -> None: ...

class ListProductsResponse(_message.Message):
    __slots__ = ("products",)
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    products: _containers.RepeatedCompositeFieldContainer[Product]
    def __init__(self, products: _Optional[_Iterable[_Union[Product, _Mapping]]] = ...) -> None: ...

class Menu(_message.Message):
    __slots__ = ("id", "name", "price", "service_ids", "establishment_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_IDS_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    price: str
    service_ids: _containers.RepeatedScalarFieldContainer[str]
    establishment_id: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., price: _Optional[str] = ..., service_ids: _Optional[_Iterable[str]] = ..., establishment_id: _Optional[str] = ...) -> None: ...

class CreateMenuRequest(_message.Message):
    __slots__ = ("name", "price", "service_ids")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_IDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    price: str
    service_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., price: _Optional[str] = ..., service_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteMenuRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteMenuResponse(_message.Message):
    __slots__ = ("deleted_menu_id",)
    DELETED_MENU_ID_FIELD_NUMBER: _ClassVar[int]
    deleted_menu_id: str
    def __init__(self, deleted_menu_id: _Optional[str] = ...) -> None: ...

class ListMenusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMenusResponse(_message.Message):
    __slots__ = ("menus",)
    MENUS_FIELD_NUMBER: _ClassVar[int]
    menus: _containers.RepeatedCompositeFieldContainer[Menu]
    def __init__(self, menus: _Optional[_Iterable[_Union[Menu, _Mapping]]] = ...) -> None: ...

class Webshop(_message.Message):
    __slots__ = ("establishment_id", "enabled", "product_ids", "updated_at")
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_IDS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    establishment_id: str
    enabled: bool
    product_ids: _containers.RepeatedScalarFieldContainer[str]
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, establishment_id: _Optional[str] = ..., enabled: _Optional[bool] = ..., product_ids: _Optional[_Iterable[str]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetWebshopRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetWebshopRequest(_message.Message):
    __slots__ = ("enabled", "set_product_ids", "product_ids")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    SET_PRODUCT_IDS_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_IDS_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    set_product_ids: bool
    product_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, enabled: _Optional[bool] = ..., set_product_ids: _Optional[bool] = ..., product_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class WebshopChange(_message.Message):
    __slots__ = ("webshop", "establishment_ids")
    WEBSHOP_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    webshop: Webshop
    establishment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, webshop: _Optional[_Union[Webshop, _Mapping]] = ..., establishment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class Address(_message.Message):
    __slots__ = ("street", "postal_code", "city", "country")
    STREET_FIELD_NUMBER: _ClassVar[int]
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    street: str
    postal_code: str
    city: str
    country: str
    def __init__(self, street: _Optional[str] = ..., postal_code: _Optional[str] = ..., city: _Optional[str] = ..., country: _Optional[str] = ...) -> None: ...

class WebsiteProfile(_message.Message):
    __slots__ = ("establishment_id", "description", "address", "phone", "email", "photo_urls", "updated_at")
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHOTO_URLS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    establishment_id: str
    description: str
    address: Address
    phone: str
    email: str
    photo_urls: _containers.RepeatedScalarFieldContainer[str]
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, establishment_id: _Optional[str] = ..., description: _Optional[str] = ..., address: _Optional[_Union[Address, _Mapping]] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., photo_urls: _Optional[_Iterable[str]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetWebsiteProfileRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetWebsiteProfileRequest(_message.Message):
    __slots__ = ("description", "address", "phone", "email", "set_photo_urls", "photo_urls")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    SET_PHOTO_URLS_FIELD_NUMBER: _ClassVar[int]
    PHOTO_URLS_FIELD_NUMBER: _ClassVar[int]
    description: str
    address: Address
    phone: str
    email: str
    set_photo_urls: bool
    photo_urls: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, description: _Optional[str] = ..., address: _Optional[_Union[Address, _Mapping]] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., set_photo_urls: _Optional[bool] = ..., photo_urls: _Optional[_Iterable[str]] = ...) -> None: ...

class WebsiteProfileChange(_message.Message):
    __slots__ = ("profile", "establishment_ids")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    profile: WebsiteProfile
    establishment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, profile: _Optional[_Union[WebsiteProfile, _Mapping]] = ..., establishment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class PublicWebsiteRequest(_message.Message):
    __slots__ = ("establishment_id",)
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    establishment_id: str
    def __init__(self, establishment_id: _Optional[str] = ...) -> None: ...

class PublicWebshopResponse(_message.Message):
    __slots__ = ("enabled", "products")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    products: _containers.RepeatedCompositeFieldContainer[Product]
    def __init__(self, enabled: _Optional[bool] = ..., products: _Optional[_Iterable[_Union[Product, _Mapping]]] = ...) -> None: ...
