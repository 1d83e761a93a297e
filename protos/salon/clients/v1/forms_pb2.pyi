import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FormFieldType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FORM_FIELD_TYPE_UNSPECIFIED: _ClassVar[FormFieldType]
    FORM_FIELD_TYPE_TEXT: _ClassVar[FormFieldType]
    FORM_FIELD_TYPE_NUMBER: _ClassVar[FormFieldType]
    FORM_FIELD_TYPE_BOOLEAN: _ClassVar[FormFieldType]
    FORM_FIELD_TYPE_CHOICE: _ClassVar[FormFieldType]
    FORM_FIELD_TYPE_DATE: _ClassVar[FormFieldType]
FORM_FIELD_TYPE_UNSPECIFIED: FormFieldType
FORM_FIELD_TYPE_TEXT: FormFieldType
FORM_FIELD_TYPE_NUMBER: FormFieldType
FORM_FIELD_TYPE_BOOLEAN: FormFieldType
FORM_FIELD_TYPE_CHOICE: FormFieldType
FORM_FIELD_TYPE_DATE: FormFieldType

class FormField(_message.Message):
    __slots__ = ("key", "label", "type", "required", "options")
    KEY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    key: str
    label: str
    type: FormFieldType
    required: bool
    options: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key: _Optional[str] = ..., label: _Optional[str] = ..., type: _Optional[_Union[FormFieldType, str]] = ..., required: _Optional[bool] = ..., options: _Optional[_Iterable[str]] = ...) -> None: ...

class Form(_message.Message):
    __slots__ = ("id", "establishment_id", "name", "fields", "version", "created_at", "updated_at", "archived_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    establishment_id: str
    name: str
    fields: _containers.RepeatedCompositeFieldContainer[FormField]
    version: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    archived_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., name: _Optional[str] = ..., fields: _Optional[_Iterable[_Union[FormField, _Mapping]]] = ..., version: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., archived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FormChange(_message.Message):
    __slots__ = ("form", "establishment_ids")
    FORM_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    form: Form
    establishment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, form: _Optional[_Union[Form, _Mapping]] = ..., establishment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateFormRequest(_message.Message):
    __slots__ = ("name", "fields")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    fields: _containers.RepeatedCompositeFieldContainer[FormField]
    def __init__(self, name: _Optional[str] = ..., fields: _Optional[_Iterable[_Union[FormField, _Mapping]]] = ...) -> None: ...

class UpdateFormRequest(_message.Message):
    __slots__ = ("id", "name", "fields")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    fields: _containers.RepeatedCompositeFieldContainer[FormField]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., fields: _Optional[_Iterable[_Union[FormField, _Mapping]]] = ...) -> None: ...

class ArchiveFormRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetFormsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetFormsResponse(_message.Message):
    __slots__ = ("forms",)
    FORMS_FIELD_NUMBER: _ClassVar[int]
    forms: _containers.RepeatedCompositeFieldContainer[Form]
    def __init__(self, forms: _Optional[_Iterable[_Union[Form, _Mapping]]] = ...) -> None: ...

class ListFormsRequest(_message.Message):
    __slots__ = ("include_archived",)
    INCLUDE_ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    include_archived: bool
    def __init__(self, include_archived: _Optional[bool] = ...) -> None: ...

class ListFormsResponse(_message.Message):
    __slots__ = ("forms",)
    FORMS_FIELD_NUMBER: _ClassVar[int]
    forms: _containers.RepeatedCompositeFieldContainer[Form]
    def __init__(self, forms: _Optional[_Iterable[_Union[Form, _Mapping]]] = ...) -> None: ...

class FormAnswer(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class FormResponse(_message.Message):
    __slots__ = ("id", "form_id", "form_version", "client_id", "establishment_id", "answers", "answered_by", "answered_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    FORM_ID_FIELD_NUMBER: _ClassVar[int]
    FORM_VERSION_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_BY_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    form_id: str
    form_version: int
    client_id: str
    establishment_id: str
    answers: _containers.RepeatedCompositeFieldContainer[FormAnswer]
    answered_by: str
    answered_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., form_id: _Optional[str] = ..., form_version: _Optional[int] = ..., client_id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., answers: _Optional[_Iterable[_Union[FormAnswer, _Mapping]]] = ..., answered_by: _Optional[str] = ..., answered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SubmitFormAnswersRequest(_message.Message):
    __slots__ = ("form_id", "client_id", "answers")
    FORM_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    form_id: str
    client_id: str
    answers: _containers.RepeatedCompositeFieldContainer[FormAnswer]
    def __init__(self, form_id: _Optional[str] = ..., client_id: _Optional[str] = ..., answers: _Optional[_Iterable[_Union[FormAnswer, _Mapping]]] = ...) -> None: ...

class FormResponseChange(_message.Message):
    __slots__ = ("response", "establishment_ids")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    response: FormResponse
    establishment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, response: _Optional[_Union[FormResponse, _Mapping]] = ..., establishment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListClientFormResponsesRequest(_message.Message):
    __slots__ = ("client_ids",)
    CLIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    client_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, client_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListClientFormResponsesResponse(_message.Message):
    __slots__ = ("responses",)
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    responses: _containers.RepeatedCompositeFieldContainer[FormResponse]
    def __init__(self, responses: _Optional[_Iterable[_Union[FormResponse, _Mapping]]] = ...) -> None: ...
