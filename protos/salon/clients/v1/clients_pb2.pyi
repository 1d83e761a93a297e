import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from salon.common.v1 import page_pb2 as _page_pb2
from salon.common.v1 import privacy_pb2 as _privacy_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DuplicateReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DUPLICATE_REASON_UNSPECIFIED: _ClassVar[DuplicateReason]
    DUPLICATE_REASON_EMAIL: _ClassVar[DuplicateReason]
    DUPLICATE_REASON_PHONE: _ClassVar[DuplicateReason]
DUPLICATE_REASON_UNSPECIFIED: DuplicateReason
DUPLICATE_REASON_EMAIL: DuplicateReason
DUPLICATE_REASON_PHONE: DuplicateReason

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
    __slots__ = ("clients", "merged")
    class MergedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    MERGED_FIELD_NUMBER: _ClassVar[int]
    clients: _containers.RepeatedCompositeFieldContainer[Client]
    merged: _containers.ScalarMap[str, str]
    def __init__(self, clients: _Optional[_Iterable[_Union[Client, _Mapping]]] = ..., merged: _Optional[_Mapping[str, str]] = ...) -> None: ...

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

class ListDuplicateClientsRequest(_message.Message):
    __slots__ = ("page",)
    PAGE_FIELD_NUMBER: _ClassVar[int]
    page: _page_pb2.PageRequest
    def __init__(self, page: _Optional[_Union[_page_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class DuplicateGroup(_message.Message):
    __slots__ = ("reason", "value", "clients")
    REASON_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    reason: DuplicateReason
    value: str
    clients: _containers.RepeatedCompositeFieldContainer[Client]
    def __init__(self, reason: _Optional[_Union[DuplicateReason, str]] = ..., value: _Optional[str] = ..., clients: _Optional[_Iterable[_Union[Client, _Mapping]]] = ...) -> None: ...

class ListDuplicateClientsResponse(_message.Message):
    __slots__ = ("groups", "cursors", "page_info")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    CURSORS_FIELD_NUMBER: _ClassVar[int]
    PAGE_INFO_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[DuplicateGroup]
    cursors: _containers.RepeatedScalarFieldContainer[str]
    page_info: _page_pb2.PageInfo
    def __init__(self, groups: _Optional[_Iterable[_Union[DuplicateGroup, _Mapping]]] = ..., cursors: _Optional[_Iterable[str]] = ..., page_info: _Optional[_Union[_page_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class MergeClientsRequest(_message.Message):
    __slots__ = ("keep_id", "merge_id")
    KEEP_ID_FIELD_NUMBER: _ClassVar[int]
    MERGE_ID_FIELD_NUMBER: _ClassVar[int]
    keep_id: str
    merge_id: str
    def __init__(self, keep_id: _Optional[str] = ..., merge_id: _Optional[str] = ...) -> None: ...

class MergeClientsResponse(_message.Message):
    __slots__ = ("client", "folded_card_ids")
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    FOLDED_CARD_IDS_FIELD_NUMBER: _ClassVar[int]
    client: Client
    folded_card_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, client: _Optional[_Union[Client, _Mapping]] = ..., folded_card_ids: _Optional[_Iterable[str]] = ...) -> None: ...
