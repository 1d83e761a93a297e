import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from salon.common.v1 import privacy_pb2 as _privacy_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AppointmentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPOINTMENT_STATUS_UNSPECIFIED: _ClassVar[AppointmentStatus]
    APPOINTMENT_STATUS_BOOKED: _ClassVar[AppointmentStatus]
    APPOINTMENT_STATUS_CANCELLED: _ClassVar[AppointmentStatus]
    APPOINTMENT_STATUS_COMPLETED: _ClassVar[AppointmentStatus]
    APPOINTMENT_STATUS_NO_SHOW: _ClassVar[AppointmentStatus]
APPOINTMENT_STATUS_UNSPECIFIED: AppointmentStatus
APPOINTMENT_STATUS_BOOKED: AppointmentStatus
APPOINTMENT_STATUS_CANCELLED: AppointmentStatus
APPOINTMENT_STATUS_COMPLETED: AppointmentStatus
APPOINTMENT_STATUS_NO_SHOW: AppointmentStatus

class PublicBookRequest(_message.Message):
    __slots__ = ("service_id", "start", "first_name", "last_name", "email", "phone", "deposit")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    DEPOSIT_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    start: _timestamp_pb2.Timestamp
    first_name: str
    last_name: str
    email: str
    phone: str
    deposit: str
    def __init__(self, service_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., deposit: _Optional[str] = ...) -> None: ...

class PublicBookResponse(_message.Message):
    __slots__ = ("appointment", "manage_token")
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    MANAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    appointment: Appointment
    manage_token: str
    def __init__(self, appointment: _Optional[_Union[Appointment, _Mapping]] = ..., manage_token: _Optional[str] = ...) -> None: ...

class PublicAppointmentsRequest(_message.Message):
    __slots__ = ("manage_token",)
    MANAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    manage_token: str
    def __init__(self, manage_token: _Optional[str] = ...) -> None: ...

class PublicCancelRequest(_message.Message):
    __slots__ = ("manage_token", "appointment_id")
    MANAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    APPOINTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    manage_token: str
    appointment_id: str
    def __init__(self, manage_token: _Optional[str] = ..., appointment_id: _Optional[str] = ...) -> None: ...

class PublicRescheduleRequest(_message.Message):
    __slots__ = ("manage_token", "appointment_id", "start")
    MANAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    APPOINTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    manage_token: str
    appointment_id: str
    start: _timestamp_pb2.Timestamp
    def __init__(self, manage_token: _Optional[str] = ..., appointment_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MailSettings(_message.Message):
    __slots__ = ("enabled", "reminder_hours")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    REMINDER_HOURS_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    reminder_hours: int
    def __init__(self, enabled: _Optional[bool] = ..., reminder_hours: _Optional[int] = ...) -> None: ...

class GetMailSettingsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class OpeningHours(_message.Message):
    __slots__ = ("weekday", "opens", "closes")
    WEEKDAY_FIELD_NUMBER: _ClassVar[int]
    OPENS_FIELD_NUMBER: _ClassVar[int]
    CLOSES_FIELD_NUMBER: _ClassVar[int]
    weekday: int
    opens: str
    closes: str
    def __init__(self, weekday: _Optional[int] = ..., opens: _Optional[str] = ..., closes: _Optional[str] = ...) -> None: ...

class EstablishmentHours(_message.Message):
    __slots__ = ("establishment_id", "hours")
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    establishment_id: str
    hours: _containers.RepeatedCompositeFieldContainer[OpeningHours]
    def __init__(self, establishment_id: _Optional[str] = ..., hours: _Optional[_Iterable[_Union[OpeningHours, _Mapping]]] = ...) -> None: ...

class SetOpeningHoursRequest(_message.Message):
    __slots__ = ("hours",)
    HOURS_FIELD_NUMBER: _ClassVar[int]
    hours: _containers.RepeatedCompositeFieldContainer[OpeningHours]
    def __init__(self, hours: _Optional[_Iterable[_Union[OpeningHours, _Mapping]]] = ...) -> None: ...

class GetOpeningHoursRequest(_message.Message):
    __slots__ = ("establishment_ids",)
    ESTABLISHMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    establishment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, establishment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetOpeningHoursResponse(_message.Message):
    __slots__ = ("establishments",)
    ESTABLISHMENTS_FIELD_NUMBER: _ClassVar[int]
    establishments: _containers.RepeatedCompositeFieldContainer[EstablishmentHours]
    def __init__(self, establishments: _Optional[_Iterable[_Union[EstablishmentHours, _Mapping]]] = ...) -> None: ...

class StaffHours(_message.Message):
    __slots__ = ("establishment_id", "staff_id", "hours")
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    establishment_id: str
    staff_id: str
    hours: _containers.RepeatedCompositeFieldContainer[OpeningHours]
    def __init__(self, establishment_id: _Optional[str] = ..., staff_id: _Optional[str] = ..., hours: _Optional[_Iterable[_Union[OpeningHours, _Mapping]]] = ...) -> None: ...

class SetStaffHoursRequest(_message.Message):
    __slots__ = ("staff_id", "hours")
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    staff_id: str
    hours: _containers.RepeatedCompositeFieldContainer[OpeningHours]
    def __init__(self, staff_id: _Optional[str] = ..., hours: _Optional[_Iterable[_Union[OpeningHours, _Mapping]]] = ...) -> None: ...

class Appointment(_message.Message):
    __slots__ = ("id", "establishment_id", "client_id", "service_id", "staff_id", "start", "end", "status")
    ID_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    id: str
    establishment_id: str
    client_id: str
    service_id: str
    staff_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    status: AppointmentStatus
    def __init__(self, id: _Optional[str] = ..., establishment_id: _Optional[str] = ..., client_id: _Optional[str] = ..., service_id: _Optional[str] = ..., staff_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[AppointmentStatus, str]] = ...) -> None: ...

class BookAppointmentRequest(_message.Message):
    __slots__ = ("client_id", "service_id", "start", "staff_id")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    service_id: str
    start: _timestamp_pb2.Timestamp
    staff_id: str
    def __init__(self, client_id: _Optional[str] = ..., service_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., staff_id: _Optional[str] = ...) -> None: ...

class CancelAppointmentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetAppointmentsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetAppointmentsResponse(_message.Message):
    __slots__ = ("appointments",)
    APPOINTMENTS_FIELD_NUMBER: _ClassVar[int]
    appointments: _containers.RepeatedCompositeFieldContainer[Appointment]
    def __init__(self, appointments: _Optional[_Iterable[_Union[Appointment, _Mapping]]] = ...) -> None: ...

class ListAgendaRequest(_message.Message):
    __slots__ = ("date", "establishment_id")
    DATE_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    date: str
    establishment_id: str
    def __init__(self, date: _Optional[str] = ..., establishment_id: _Optional[str] = ...) -> None: ...

class ListClientAppointmentsRequest(_message.Message):
    __slots__ = ("client_id", "upcoming_only")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    UPCOMING_ONLY_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    upcoming_only: bool
    def __init__(self, client_id: _Optional[str] = ..., upcoming_only: _Optional[bool] = ...) -> None: ...

class ListAppointmentsResponse(_message.Message):
    __slots__ = ("appointments",)
    APPOINTMENTS_FIELD_NUMBER: _ClassVar[int]
    appointments: _containers.RepeatedCompositeFieldContainer[Appointment]
    def __init__(self, appointments: _Optional[_Iterable[_Union[Appointment, _Mapping]]] = ...) -> None: ...

class Slot(_message.Message):
    __slots__ = ("start", "end", "staff_id")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    staff_id: str
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., staff_id: _Optional[str] = ...) -> None: ...

class AvailabilityRequest(_message.Message):
    __slots__ = ("service_id", "date", "establishment_id", "online_only")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    ESTABLISHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ONLINE_ONLY_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    date: str
    establishment_id: str
    online_only: bool
    def __init__(self, service_id: _Optional[str] = ..., date: _Optional[str] = ..., establishment_id: _Optional[str] = ..., online_only: _Optional[bool] = ...) -> None: ...

class AvailabilityResponse(_message.Message):
    __slots__ = ("slots",)
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    slots: _containers.RepeatedCompositeFieldContainer[Slot]
    def __init__(self, slots: _Optional[_Iterable[_Union[Slot, _Mapping]]] = ...) -> None: ...
