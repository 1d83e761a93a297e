import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_EMAIL: _ClassVar[Channel]
    CHANNEL_SMS: _ClassVar[Channel]

class Audience(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIENCE_UNSPECIFIED: _ClassVar[Audience]
    AUDIENCE_ORGANIZATION: _ClassVar[Audience]
    AUDIENCE_ESTABLISHMENT: _ClassVar[Audience]

class CampaignStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CAMPAIGN_STATUS_UNSPECIFIED: _ClassVar[CampaignStatus]
    CAMPAIGN_STATUS_DRAFT: _ClassVar[CampaignStatus]
    CAMPAIGN_STATUS_SENDING: _ClassVar[CampaignStatus]
    CAMPAIGN_STATUS_SENT: _ClassVar[CampaignStatus]

class MessageStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MESSAGE_STATUS_UNSPECIFIED: _ClassVar[MessageStatus]
    MESSAGE_STATUS_PENDING: _ClassVar[MessageStatus]
    MESSAGE_STATUS_SENT: _ClassVar[MessageStatus]
    MESSAGE_STATUS_FAILED: _ClassVar[MessageStatus]
    MESSAGE_STATUS_SKIPPED: _ClassVar[MessageStatus]
CHANNEL_UNSPECIFIED: Channel
CHANNEL_EMAIL: Channel
CHANNEL_SMS: Channel
AUDIENCE_UNSPECIFIED: Audience
AUDIENCE_ORGANIZATION: Audience
AUDIENCE_ESTABLISHMENT: Audience
CAMPAIGN_STATUS_UNSPECIFIED: CampaignStatus
CAMPAIGN_STATUS_DRAFT: CampaignStatus
CAMPAIGN_STATUS_SENDING: CampaignStatus
CAMPAIGN_STATUS_SENT: CampaignStatus
MESSAGE_STATUS_UNSPECIFIED: MessageStatus
MESSAGE_STATUS_PENDING: MessageStatus
MESSAGE_STATUS_SENT: MessageStatus
MESSAGE_STATUS_FAILED: MessageStatus
MESSAGE_STATUS_SKIPPED: MessageStatus

class MessageCounts(_message.Message):
    __slots__ = ("pending", "sent", "failed", "skipped")
    PENDING_FIELD_NUMBER: _ClassVar[int]
    SENT_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    pending: int
    sent: int
    failed: int
    skipped: int
    def __init__(self, pending: _Optional[int] = ..., sent: _Optional[int] = ..., failed: _Optional[int] = ..., skipped: _Optional[int] = ...) -> None: ...

class Campaign(_message.Message):
    __slots__ = ("id", "establishment_id", "name", "channel", "subject", "body", "audience", "status", "created_at", "sent_at", "counts", "created_by")
    ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    id: str
    establishment_id: str
    name: str
    channel: Channel
    subject: str
    body: str
    audience: Audience
    status: CampaignStatus
    created_at: _timestamp_pb2.Timestamp
    sent_at: _timestamp_pb2.Timestamp
    counts: MessageCounts
    created_by: str
    def __init__(self, id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., name: _Optional[str] = ..., channel: _Optional[_Union[Channel, str]] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ..., audience: _Optional[_Union[Audience, str]] = ..., status: _Optional[_Union[CampaignStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., counts: _Optional[_Union[MessageCounts, _Mapping]] = ..., created_by: _Optional[str] = ...) -> None: ...

class CreateCampaignRequest(_message.Message):
    __slots__ = ("name", "channel", "subject", "body", "audience")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    channel: Channel
    subject: str
    body: str
    audience: Audience
    def __init__(self, name: _Optional[str] = ..., channel: _Optional[_Union[Channel, str]] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ..., audience: _Optional[_Union[Audience, str]] = ...) -> None: ...

class GetCampaignsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetCampaignsResponse(_message.Message):
    __slots__ = ("campaigns",)
    CAMPAIGNS_FIELD_NUMBER: _ClassVar[int]
    campaigns: _containers.RepeatedCompositeFieldContainer[Campaign]
    def __init__(self, campaigns: _Optional[_Iterable[_Union[Campaign, _Mapping]]] = ...) -> None: ...

class ListCampaignsRequest(_message.Message):
    __slots__ = ("first",)
    FIRST_FIELD_NUMBER: _ClassVar[int]
    first: int
    def __init__(self, first: _Optional[int] = ...) -> None: ...

class SendCampaignRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class CampaignMessage(_message.Message):
    __slots__ = ("id", "campaign_id", "client_id", "channel", "address", "status", "reason", "attempts", "sent_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    campaign_id: str
    client_id: str
    channel: Channel
    address: str
    status: MessageStatus
    reason: str
    attempts: int
    sent_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., campaign_id: _Optional[str] = ..., client_id: _Optional[str] = ..., channel: _Optional[_Union[Channel, str]] = ..., address: _Optional[str] = ..., status: _Optional[_Union[MessageStatus, str]] = ..., reason: _Optional[str] = ..., attempts: _Optional[int] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListCampaignMessagesRequest(_message.Message):
    __slots__ = ("campaign_id", "first", "after")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    first: int
    after: str
    def __init__(self, campaign_id: _Optional[str] = ..., first: _Optional[int] = ..., after: _Optional[str] = ...) -> None: ...

class ListCampaignMessagesResponse(_message.Message):
    __slots__ = ("messages", "has_next_page")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    HAS_NEXT_PAGE_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[CampaignMessage]
    has_next_page: bool
    def __init__(self, messages: _Optional[_Iterable[_Union[CampaignMessage, _Mapping]]] = ..., has_next_page: _Optional[bool] = ...) -> None: ...
