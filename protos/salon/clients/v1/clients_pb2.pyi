import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from salon.common.v1 import page_pb2 as _page_pb2
from salon.common.v1 import privacy_pb2 as _privacy_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LoyaltyCard(_message.Message):
    __slots__ = ("id", "client_id", "establishment_id", "points", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    client_id: str
    establishment_id: str
    points: int
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., client_id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., points: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateLoyaltyCardRequest(_message.Message):
    __slots__ = ("client_id",)
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    def __init__(self, client_id: _Optional[str] = ...) -> None: ...

class GetLoyaltyCardsRequest(_message.Message):
    __slots__ = ("client_ids",)
    CLIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    client_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, client_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetLoyaltyCardsResponse(_message.Message):
    __slots__ = ("cards",)
    CARDS_FIELD_NUMBER: _ClassVar[int]
    cards: _containers.RepeatedCompositeFieldContainer[LoyaltyCard]
    def __init__(self, cards: _Optional[_Iterable[_Union[LoyaltyCard, _Mapping]]] = ...) -> None: ...

class FindOrCreateClientResponse(_message.Message):
    __slots__ = ("client", "created")
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    client: Client
    created: bool
    def __init__(self, client: _Optional[_Union[Client, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class Client(_message.Message):
    __slots__ = ("id", "first_name", "last_name", "email", "phone", "establishment_ids", "created_at", "updated_at", "created_in_establishment_id", "marketing_email_opt_out", "marketing_sms_opt_out")
    ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_IN_ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    MARKETING_EMAIL_OPT_OUT_FIELD_NUMBER: _ClassVar[int]
    MARKETING_SMS_OPT_OUT_FIELD_NUMBER: _ClassVar[int]
    id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    establishment_ids: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    created_in_establishment_id: str
    marketing_email_opt_out: bool
    marketing_sms_opt_out: bool
    def __init__(self, id: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., establishment_ids: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_in_establishment_id: _Optional[str] = ..., marketing_email_opt_out: _Optional[bool] = ..., marketing_sms_opt_out: _Optional[bool] = ...) -> None: ...

class CreateClientRequest(_message.Message):
    __slots__ = ("first_name", "last_name", "email", "phone", "marketing_email_opt_out", "marketing_sms_opt_out")
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    MARKETING_EMAIL_OPT_OUT_FIELD_NUMBER: _ClassVar[int]
    MARKETING_SMS_OPT_OUT_FIELD_NUMBER: _ClassVar[int]
    first_name: str
    last_name: str
    email: str
    phone: str
    marketing_email_opt_out: bool
    marketing_sms_opt_out: bool
    def __init__(self, first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., marketing_email_opt_out: _Optional[bool] = ..., marketing_sms_opt_out: _Optional[bool] = ...) -> None: ...

class UpdateClientRequest(_message.Message):
    __slots__ = ("id", "first_name", "last_name", "email", "phone", "marketing_email_opt_out", "marketing_sms_opt_out")
    ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    MARKETING_EMAIL_OPT_OUT_FIELD_NUMBER: _ClassVar[int]
    MARKETING_SMS_OPT_OUT_FIELD_NUMBER: _ClassVar[int]
    id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    marketing_email_opt_out: bool
    marketing_sms_opt_out: bool
    def __init__(self, id: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., marketing_email_opt_out: _Optional[bool] = ..., marketing_sms_opt_out: _Optional[bool] = ...) -> None: ...

class GetClientsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetClientsResponse(_message.Message):
    __slots__ = ("clients",)
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    clients: _containers.RepeatedCompositeFieldContainer[Client]
    def __init__(self, clients: _Optional[_Iterable[_Union[Client, _Mapping]]] = ...) -> None: ...

class ListClientsRequest(_message.Message):
    __slots__ = ("page", "search", "establishment_id")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    SEARCH_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    page: _page_pb2.PageRequest
    search: str
    establishment_id: str
    def __init__(self, page: _Optional[_Union[_page_pb2.PageRequest, _Mapping]] = ..., search: _Optional[str] = ..., establishment_id: _Optional[str] = ...) -> None: ...

class ListClientsResponse(_message.Message):
    __slots__ = ("clients", "cursors", "page_info")
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    CURSORS_FIELD_NUMBER: _ClassVar[int]
    PAGE_INFO_FIELD_NUMBER: _ClassVar[int]
    clients: _containers.RepeatedCompositeFieldContainer[Client]
    cursors: _containers.RepeatedScalarFieldContainer[str]
    page_info: _page_pb2.PageInfo
    def __init__(self, clients: _Optional[_Iterable[_Union[Client, _Mapping]]] = ..., cursors: _Optional[_Iterable[str]] = ..., page_info: _Optional[_Union[_page_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class EraseClientRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...
