from salon.common.v1 import scope_pb2 as _scope_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrganizationCreated(_message.Message):
    __slots__ = ("organization_id", "name", "slug")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    name: str
    slug: str
    def __init__(self, organization_id: _Optional[str] = ..., name: _Optional[str] = ..., slug: _Optional[str] = ...) -> None: ...

class EstablishmentCreated(_message.Message):
    __slots__ = ("organization_id", "establishment_id", "name", "slug", "timezone")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    establishment_id: str
    name: str
    slug: str
    timezone: str
    def __init__(self, organization_id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., name: _Optional[str] = ..., slug: _Optional[str] = ..., timezone: _Optional[str] = ...) -> None: ...

class MembershipAdded(_message.Message):
    __slots__ = ("organization_id", "establishment_id", "user_id", "role", "rights")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    RIGHTS_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    establishment_id: str
    user_id: str
    role: _scope_pb2.Role
    rights: _containers.RepeatedScalarFieldContainer[_scope_pb2.Right]
    def __init__(self, organization_id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., user_id: _Optional[str] = ..., role: _Optional[_Union[_scope_pb2.Role, str]] = ..., rights: _Optional[_Iterable[_Union[_scope_pb2.Right, str]]] = ...) -> None: ...

class MembershipRightsChanged(_message.Message):
    __slots__ = ("organization_id", "establishment_id", "user_id", "rights")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    RIGHTS_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    establishment_id: str
    user_id: str
    rights: _containers.RepeatedScalarFieldContainer[_scope_pb2.Right]
    def __init__(self, organization_id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., user_id: _Optional[str] = ..., rights: _Optional[_Iterable[_Union[_scope_pb2.Right, str]]] = ...) -> None: ...
