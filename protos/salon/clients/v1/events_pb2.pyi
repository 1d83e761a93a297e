from salon.clients.v1 import clients_pb2 as _clients_pb2
from salon.clients.v1 import forms_pb2 as _forms_pb2
from salon.clients.v1 import marketing_pb2 as _marketing_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClientCreated(_message.Message):
    __slots__ = ("client",)
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    client: _clients_pb2.Client
    def __init__(self, client: _Optional[_Union[_clients_pb2.Client, _Mapping]] = ...) -> None: ...

class ClientUpdated(_message.Message):
    __slots__ = ("client", "changed_fields")
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    client: _clients_pb2.Client
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, client: _Optional[_Union[_clients_pb2.Client, _Mapping]] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class LoyaltyCardCreated(_message.Message):
    __slots__ = ("card",)
    CARD_FIELD_NUMBER: _ClassVar[int]
    card: _clients_pb2.LoyaltyCard
    def __init__(self, card: _Optional[_Union[_clients_pb2.LoyaltyCard, _Mapping]] = ...) -> None: ...

class LoyaltyCardCredited(_message.Message):
    __slots__ = ("card", "points", "receipt_id")
    CARD_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    card: _clients_pb2.LoyaltyCard
    points: int
    receipt_id: str
    def __init__(self, card: _Optional[_Union[_clients_pb2.LoyaltyCard, _Mapping]] = ..., points: _Optional[int] = ..., receipt_id: _Optional[str] = ...) -> None: ...

class ClientErased(_message.Message):
    __slots__ = ("client_id",)
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    def __init__(self, client_id: _Optional[str] = ...) -> None: ...

class FormCreated(_message.Message):
    __slots__ = ("form",)
    FORM_FIELD_NUMBER: _ClassVar[int]
    form: _forms_pb2.Form
    def __init__(self, form: _Optional[_Union[_forms_pb2.Form, _Mapping]] = ...) -> None: ...

class FormUpdated(_message.Message):
    __slots__ = ("form",)
    FORM_FIELD_NUMBER: _ClassVar[int]
    form: _forms_pb2.Form
    def __init__(self, form: _Optional[_Union[_forms_pb2.Form, _Mapping]] = ...) -> None: ...

class FormArchived(_message.Message):
    __slots__ = ("form",)
    FORM_FIELD_NUMBER: _ClassVar[int]
    form: _forms_pb2.Form
    def __init__(self, form: _Optional[_Union[_forms_pb2.Form, _Mapping]] = ...) -> None: ...

class FormResponseSubmitted(_message.Message):
    __slots__ = ("form_response_id", "form_id", "form_version", "client_id")
    FORM_RESPONSE_ID_FIELD_NUMBER: _ClassVar[int]
    FORM_ID_FIELD_NUMBER: _ClassVar[int]
    FORM_VERSION_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    form_response_id: str
    form_id: str
    form_version: int
    client_id: str
    def __init__(self, form_response_id: _Optional[str] = ..., form_id: _Optional[str] = ..., form_version: _Optional[int] = ..., client_id: _Optional[str] = ...) -> None: ...

class CampaignCreated(_message.Message):
    __slots__ = ("campaign",)
    CAMPAIGN_FIELD_NUMBER: _ClassVar[int]
    campaign: _marketing_pb2.Campaign
    def __init__(self, campaign: _Optional[_Union[_marketing_pb2.Campaign, _Mapping]] = ...) -> None: ...

class CampaignSent(_message.Message):
    __slots__ = ("campaign",)
    CAMPAIGN_FIELD_NUMBER: _ClassVar[int]
    campaign: _marketing_pb2.Campaign
    def __init__(self, campaign: _Optional[_Union[_marketing_pb2.Campaign, _Mapping]] = ...) -> None: ...

class ClientMerged(_message.Message):
    __slots__ = ("kept_client_id", "merged_client_id", "kept", "folded_card_ids")
    KEPT_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    MERGED_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEPT_FIELD_NUMBER: _ClassVar[int]
    FOLDED_CARD_IDS_FIELD_NUMBER: _ClassVar[int]
    kept_client_id: str
    merged_client_id: str
    kept: _clients_pb2.Client
    folded_card_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, kept_client_id: _Optional[str] = ..., merged_client_id: _Optional[str] = ..., kept: _Optional[_Union[_clients_pb2.Client, _Mapping]] = ..., folded_card_ids: _Optional[_Iterable[str]] = ...) -> None: ...
