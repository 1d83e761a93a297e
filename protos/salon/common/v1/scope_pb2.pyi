from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_OWNER: _ClassVar[Role]
    ROLE_MANAGER: _ClassVar[Role]
    ROLE_STAFF: _ClassVar[Role]

class Right(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RIGHT_UNSPECIFIED: _ClassVar[Right]
    RIGHT_SWITCH_AGENDA: _ClassVar[Right]
    RIGHT_MANAGE_OTHER_PRODUCTS: _ClassVar[Right]
    RIGHT_SWITCH_REPORTS: _ClassVar[Right]
ROLE_UNSPECIFIED: Role
ROLE_OWNER: Role
ROLE_MANAGER: Role
ROLE_STAFF: Role
RIGHT_UNSPECIFIED: Right
RIGHT_SWITCH_AGENDA: Right
RIGHT_MANAGE_OTHER_PRODUCTS: Right
RIGHT_SWITCH_REPORTS: Right

class Scope(_message.Message):
    __slots__ = ("organization_id", "establishment_id", "user_id", "role", "rights", "expires_at", "request_id", "verified_establishment_ids", "verified_member_ids")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    RIGHTS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_ESTABLISHMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    establishment_id: str
    user_id: str
    role: Role
    rights: _containers.RepeatedScalarFieldContainer[Right]
    expires_at: int
    request_id: str
    verified_establishment_ids: _containers.RepeatedScalarFieldContainer[str]
    verified_member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, organization_id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., user_id: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ..., rights: _Optional[_Iterable[_Union[Right, str]]] = ..., expires_at: _Optional[int] = ..., request_id: _Optional[str] = ..., verified_establishment_ids: _Optional[_Iterable[str]] = ..., verified_member_ids: _Optional[_Iterable[str]] = ...) -> None: ...
