from salon.booking.v1 import booking_pb2 as _booking_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AppointmentBooked(_message.Message):
    __slots__ = ("appointment",)
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    appointment: _booking_pb2.Appointment
    def __init__(self, appointment: _Optional[_Union[_booking_pb2.Appointment, _Mapping]] = ...) -> None: ...

class AppointmentMoved(_message.Message):
    __slots__ = ("appointment",)
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    appointment: _booking_pb2.Appointment
    def __init__(self, appointment: _Optional[_Union[_booking_pb2.Appointment, _Mapping]] = ...) -> None: ...

class AppointmentCancelled(_message.Message):
    __slots__ = ("appointment",)
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    appointment: _booking_pb2.Appointment
    def __init__(self, appointment: _Optional[_Union[_booking_pb2.Appointment, _Mapping]] = ...) -> None: ...

class AppointmentCompleted(_message.Message):
    __slots__ = ("appointment",)
    APPOINTMENT_FIELD_NUMBER: _ClassVar[int]
    appointment: _booking_pb2.Appointment
    def __init__(self, appointment: _Optional[_Union[_booking_pb2.Appointment, _Mapping]] = ...) -> None: ...

class OpeningHoursSet(_message.Message):
    __slots__ = ("hours",)
    HOURS_FIELD_NUMBER: _ClassVar[int]
    hours: _booking_pb2.EstablishmentHours
    def __init__(self, hours: _Optional[_Union[_booking_pb2.EstablishmentHours, _Mapping]] = ...) -> None: ...
